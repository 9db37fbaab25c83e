/**
 * Why the relay stores an update before it forwards it (docs/decisions/0017 and 0022): a peer
 * that received a record the relay then lost cannot hand it back. Its reconnect sends the relay
 * everything the relay lacks, that record included, on its author's clientID; clientID
 * ownership (I4) refuses the whole message, and that refusal ends the peer's connection. If the
 * relay forwarded before its append committed, a crash in between would do this to every peer
 * that got the record, until its author comes back and resends it. The relay's loss is
 * simulated by restarting it on a copy of its data dir taken before the record arrived.
 */
import { cpSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { tempDir, testRelay, type TestRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();

/** Waits until `p` is synced; a timeout names the step and shows the status. */
async function synced(p: Profile, step: string): Promise<void> {
  await p.status.when((s) => s.synced, 20_000).catch(() => {
    throw new Error(`${step}: not synced: ${JSON.stringify(p.status.value)} refusal ${p.refusal.value}`);
  });
}

describe('a record the relay forwarded and then lost', () => {
  it('locks out the peer that holds it (ENVELOPE_CLIENT_NOT_OWNED) until its author resends it', async () => {
    const data = tempDir('fhv-lost-');
    const before = tempDir('fhv-lost-before-');
    const bobStore = tempDir('fhv-lost-bob-');
    cleanups.push(() => data.remove(), () => before.remove(), () => bobStore.remove());
    let relay: TestRelay = await testRelay({ dataDir: data.path, quiet: true });
    const port = relay.port;
    cleanups.push(() => relay.destroy());
    /** Stops the relay, copies its data dir (`save`) or puts a copy back (`restore`), starts it again. */
    const restart = async (o: { save?: string; restore?: string }) => {
      await relay.destroy();
      if (o.save) cpSync(data.path, o.save, { recursive: true });
      if (o.restore) {
        rmSync(data.path, { recursive: true, force: true });
        cpSync(o.restore, data.path, { recursive: true });
      }
      relay = await testRelay({ dataDir: data.path, port, quiet: true });
    };

    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
    const a = await Profile.create({ ...common, signer: alice, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    cleanups.push(() => a.close());
    await a.flush(); // the genesis, which makes Bob a member, is at the relay before Bob connects
    const store = sqlitePersistence(bobStore.path);
    cleanups.push(() => store.close());
    let b = await Profile.open({ ...common, signer: bob, access: a.access, persistence: store.persistence });
    cleanups.push(() => b.close());
    await synced(b, 'peer opened');
    insertNote(a, 'n', 0, 'first. ');
    await a.flush();
    await eventually(() => b.readNote('n') === 'first. ', 10_000, () => JSON.stringify([b.readNote('n'), a.readNote('n'), b.status.value]));

    // The relay as it is before the next record; then the record reaches the peer.
    await restart({ save: before.path });
    await synced(a, 'author after restart');
    await synced(b, 'peer after restart');
    insertNote(a, 'n', 7, 'second.');
    await a.flush();
    await eventually(() => b.readNote('n') === 'first. second.', 10_000);

    // The author goes offline; the relay comes back without the record.
    a.disconnect();
    await restart({ restore: before.path });
    await eventually(() => b.refusal.value !== null, 10_000, () => JSON.stringify(b.status.value));
    expect(b.refusal.value).toBe('ENVELOPE_CLIENT_NOT_OWNED');
    expect(b.status.value.synced).toBe(false);
    const name = toBase64Url(a.access.docId);
    const storedBytes = () => relay.store.load(name)?.length ?? 0;
    const withoutRecord = storedBytes();

    // The author's reconnect hands the record back; the peer, reopened, syncs again.
    await a.connect();
    await synced(a, 'author back');
    await eventually(() => storedBytes() > withoutRecord, 10_000);
    await b.close();
    b = await Profile.open({ ...common, signer: bob, access: a.access, persistence: store.persistence });
    await synced(b, 'peer reopened');
    expect(b.refusal.value).toBeNull();
    expect(b.readNote('n')).toBe('first. second.');
  });
});
