/**
 * An acknowledged update is durable (docs/decisions/0017): the relay runs as its own process
 * (`node server/main.ts`), an owner writes records through the wire protocol, and the relay is
 * killed with SIGKILL the moment a chosen acknowledgement arrives, several rounds over, also
 * while later updates of the same burst are still in flight. After each restart on the same
 * data dir, every update the relay acknowledged must be there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, generateSymmetricKey, nobleEngine, secureRandom, toBase64Url } from '../../src/lib/crypto/index.ts';
import {
  deriveClientId,
  deriveDocId,
  encodeMembershipExt,
  ENVELOPE_MAP,
  GENESIS_NONCE_LENGTH,
  parseRecord,
  recordKey,
  RecordType,
  Role,
  sealRecord,
  ZERO_HASH,
} from '../../src/lib/protocol/index.ts';
import { forgeRecord } from '../helpers/forge.ts';
import { tempDir } from '../helpers/relay.ts';
import { RawSyncClient, within } from '../helpers/raw-sync-client.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** A relay process on a free port; resolves once it listens. */
async function startRelayProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'server/main.ts')], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, RELAY_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const listening = new Promise<string>((ok, fail) => {
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /on http:\/\/([\d.]+:\d+)/.exec(stdout);
      if (m) ok(`ws://${m[1]}`);
    });
    child.once('exit', (code, signal) => fail(new Error(`relay exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  return { child, url: await within(listening, 30_000, 'relay start') };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => child.once('exit', () => ok()));
}

/** One round: how many records to send at once, and after which acknowledgement to kill the relay. */
const ROUNDS = [
  { burst: 1, killAtAck: 1 },
  { burst: 12, killAtAck: 1 }, // 11 updates still in flight
  { burst: 12, killAtAck: 12 },
  { burst: 30, killAtAck: 7 },
  { burst: 5, killAtAck: 2 },
  { burst: 30, killAtAck: 30 },
  { burst: 40, killAtAck: 1 },
];

describe('durability: acknowledged means stored', () => {
  const children: ChildProcess[] = [];
  const clients: RawSyncClient[] = [];
  const dir = tempDir('fhv-durable-');
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const child of children.splice(0)) {
      child.kill('SIGKILL');
      await within(exited(child), 10_000, 'relay exit');
    }
    dir.remove();
  });

  it('loses no acknowledged update when the relay is SIGKILLed right after acknowledging', async () => {
    const owner = generateSigningKeyPair();
    const nonce = secureRandom(GENESIS_NONCE_LENGTH);
    const docId = deriveDocId(owner.publicKey, nonce);
    const name = toBase64Url(docId);
    const key = generateSymmetricKey();

    // The owner's envelope replica: every record goes in as its own transaction, its update captured.
    const envelope = new Y.Doc();
    envelope.clientID = deriveClientId(docId, owner.publicKey, 1);
    let lastUpdate: Uint8Array | undefined;
    envelope.on('update', (u: Uint8Array) => (lastUpdate = u));
    const insert = (recordKeyOf: string, bytes: Uint8Array): Uint8Array => {
      envelope.getMap<Uint8Array>(ENVELOPE_MAP).set(recordKeyOf, bytes);
      return lastUpdate!;
    };

    const genesis = await sealRecord({
      header: {
        type: RecordType.membership,
        docId,
        epoch: 0,
        author: owner.publicKey,
        seq: 1,
        prev: ZERO_HASH,
        ext: encodeMembershipExt({ kind: 'genesis', nonce, members: [{ publicKey: owner.publicKey, role: Role.owner, expiresAt: 0 }] }),
      },
      payload: new Uint8Array(0),
      key,
      secretKey: owner.secretKey,
      engine: nobleEngine,
      random: secureRandom,
    });
    const parsedGenesis = parseRecord(genesis.bytes);
    if (!parsedGenesis.ok) throw new Error(parsedGenesis.code);
    let seq = 1;
    let prev: Uint8Array = genesis.id;
    const nextRecord = async () => {
      seq++;
      const r = await forgeRecord({ signer: owner, docId, key, seq, prev, edit: (d) => d.getMap('vitals').set(`k${seq}`, seq) });
      prev = r.id;
      return r;
    };

    const acknowledged: string[] = [];
    let killedInFlight = 0;
    const connect = async (url: string) => {
      const c = await RawSyncClient.open({ url, name, docId, signer: owner, genesisNonce: nonce });
      clients.push(c);
      return c;
    };
    /** Everything acknowledged so far is in what a restarted relay serves. */
    const expectAllAcknowledgedStored = async (c: RawSyncClient) => {
      const stored = new Y.Doc();
      Y.applyUpdate(stored, await c.serverState());
      const keys = new Set(stored.getMap(ENVELOPE_MAP).keys());
      const lost = acknowledged.filter((k) => !keys.has(k));
      expect(lost, `${lost.length} acknowledged record(s) lost of ${acknowledged.length}`).toEqual([]);
      return stored;
    };

    for (const [i, round] of [{ burst: 0, killAtAck: 1 }, ...ROUNDS].entries()) {
      const relay = await startRelayProcess(dir.path);
      children.push(relay.child);
      const writer = await connect(relay.url);
      expect(writer.closeReason).toBeNull();
      const stored = await expectAllAcknowledgedStored(writer);

      // Like a reconnecting client: first resend what the relay lacks (updates never acknowledged).
      const missing = Y.encodeStateAsUpdate(envelope, Y.encodeStateVector(stored));
      const resent = [...envelope.getMap(ENVELOPE_MAP).keys()].filter((k) => !stored.getMap(ENVELOPE_MAP).has(k));
      if (resent.length > 0) {
        writer.sendUpdate(missing);
        await writer.acks(1);
        acknowledged.push(...resent);
      }

      // Round 0 writes the genesis; each later round a burst of records, all sent at once.
      const burst: Array<{ key: string; update: Uint8Array }> = [];
      if (i === 0) burst.push({ key: recordKey(parsedGenesis.value), update: insert(recordKey(parsedGenesis.value), genesis.bytes) });
      for (let n = 0; n < round.burst; n++) {
        const r = await nextRecord();
        burst.push({ key: r.key, update: insert(r.key, r.bytes) });
      }
      const base = writer.acked;
      writer.onAck = (count) => {
        if (count - base === round.killAtAck) relay.child.kill('SIGKILL');
      };
      for (const b of burst) writer.sendUpdate(b.update);
      await within(exited(relay.child), 30_000, `relay killed in round ${i}`);
      await writer.closed();
      // Acknowledgements come in order, one per update: the first `n` updates were acknowledged.
      const n = writer.acked - base;
      expect(n).toBeGreaterThanOrEqual(Math.min(round.killAtAck, burst.length));
      acknowledged.push(...burst.slice(0, n).map((b) => b.key));
      if (n < burst.length) killedInFlight++;
      writer.close();
    }

    const relay = await startRelayProcess(dir.path);
    children.push(relay.child);
    await expectAllAcknowledgedStored(await connect(relay.url));
    expect(acknowledged.length).toBeGreaterThan(ROUNDS.length);
    expect(killedInFlight, 'some kills must land while updates were still in flight').toBeGreaterThan(0);
  });
});
