/**
 * S13's relay paths over one point's documents, our relay (server/relay.ts, SQLite on disk)
 * against stock Hocuspocus on plain docs, both in this process:
 *  - sync of a fresh device: every document opened on a device that holds nothing, over one
 *    shared socket (50 at a time, see CHUNK), until all are synced (ours: records verified, plain doc built) and hold the
 *    stored content; peer: one stock provider per document on one shared provider socket;
 *  - relay accept of one update into the first document while every document is loaded: from the
 *    server's `Connection.handleMessage` of the update to its sync-status acknowledgement (ours:
 *    policy check, durable append, then the ack; stock Hocuspocus: apply, then the ack); the
 *    client's round trip (edit until it sees the ack) is kept too.
 * The documents reach each server first from the owner's device holding them (ours: its stored
 * envelopes; peer: the plain states); the peer's uploaders stay connected, as stock Hocuspocus
 * keeps a document only while someone is.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import { Connection, Server } from '@hocuspocus/server';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { startRelay } from '../../server/relay.ts';
import { isSyncStatus } from '../../server/durable-ack.ts';
import { RelaySockets } from '../../src/lib/sync/relay-socket.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { storedDevice } from '../s5-coldload.ts';
import { sameState, type DocSet } from './cost-docs.ts';
import { median, now, sleep, within } from './common.ts';
import type { Pair } from './cost-local.ts';
import { deviceEngine } from './sides.ts';

export interface RelayCosts {
  /** Every document of the point to a device that holds nothing. */
  readonly freshSync: Pair;
  /** Server side: the update's handleMessage until its acknowledgement is sent. */
  readonly accept: Pair;
  /** Client side: the edit until the writer saw the acknowledgement (ours: seal included). */
  readonly acceptRoundTrip: Pair;
}

const WAIT_MS = 300_000;
/**
 * Documents opened at once over one socket, the next ones once these are synced: Hocuspocus
 * closes a connection with more than 100 documents waiting to authenticate (maxPendingDocuments),
 * which 1000 opened at once exceed.
 */
const CHUNK = 50;

async function inChunks<T, R>(items: readonly T[], f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(...(await Promise.all(items.slice(i, i + CHUNK).map(f))));
  return out;
}

/** Server-side accept times: the first handleMessage after `arm` until the next sync-status ack. */
function acceptClock(): { arm(): Promise<number>; restore(): void } {
  const proto = Connection.prototype as unknown as { handleMessage(d: Uint8Array): void; send(m: Uint8Array): void };
  const { handleMessage, send } = proto;
  let start: number | undefined;
  let done: ((ms: number) => void) | undefined;
  proto.handleMessage = function (d) {
    if (done && start === undefined) start = now();
    return handleMessage.call(this, d);
  };
  proto.send = function (m) {
    if (done && start !== undefined && isSyncStatus(m)) {
      done(now() - start);
      done = undefined;
    }
    return send.call(this, m);
  };
  return {
    arm: () =>
      new Promise<number>((resolve) => {
        start = undefined;
        done = resolve;
      }),
    restore() {
      proto.handleMessage = handleMessage;
      proto.send = send;
    },
  };
}

/** `edits` edits after 3 warm-ups, one at a time: the server's accept time and the client's round trip. */
async function timeAccepts(clock: ReturnType<typeof acceptClock>, edits: number, edit: () => Promise<void>): Promise<{ accept: number[]; roundTrip: number[] }> {
  const accept: number[] = [];
  const roundTrip: number[] = [];
  for (let i = 0; i < edits + 3; i++) {
    const accepted = clock.arm();
    const t0 = now();
    await edit();
    const rt = now() - t0;
    const ms = await within(accepted, 30_000, 'the server acknowledges the edit');
    if (i >= 3) {
      accept.push(ms);
      roundTrip.push(rt);
    }
    await sleep(5);
  }
  return { accept, roundTrip };
}

async function oursCosts(set: DocSet, trials: number, edits: number): Promise<{ fresh: number[]; accept: number[]; roundTrip: number[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fhv-bench-s13-'));
  const relay = await startRelay({ port: 0, host: '127.0.0.1', dataDir, quiet: true });
  const fresh: number[] = [];
  const accept: number[] = [];
  const roundTrip: number[] = [];
  let open: Profile[] = [];
  let pool: RelaySockets | undefined;
  // Before any connection: the relay binds each connection's send when it connects (durable-ack.ts).
  const clock = acceptClock();
  try {
    const engine = await deviceEngine();
    // Each document's uploads in the order they were written, the documents side by side.
    const stages = Math.max(...set.docs.map((d) => d.uploads.length));
    for (let stage = 0; stage < stages; stage++) {
      const upPool = new RelaySockets();
      const devices = await inChunks(
        set.docs.filter((d) => d.uploads[stage]),
        async (d) => {
          const { signer, envelope } = d.uploads[stage]!;
          const p = await Profile.open({ signer, access: d.access, persistence: storedDevice(envelope), engine, relayUrl: relay.url, relaySocket: upPool.for(relay.url) });
          // flush() waits for the relay only once connected.
          await p.status.when((s) => s.synced && s.pending === 0, WAIT_MS);
          await p.flush(WAIT_MS);
          return p;
        },
      );
      for (const p of devices) await p.close();
      upPool.destroy();
    }
    for (let t = 0; t <= trials; t++) {
      pool = new RelaySockets();
      const socket = pool.for(relay.url);
      const device = await deviceEngine();
      const t0 = now();
      open = await inChunks(set.docs, async (d) => {
        const p = await Profile.open({ signer: set.owner, access: d.access, engine: device, relayUrl: relay.url, relaySocket: socket });
        await p.status.when((s) => s.synced, WAIT_MS);
        return p;
      });
      const ms = now() - t0;
      set.docs.forEach((d, i) => {
        if (!sameState(engineOf(open[i]!).plainDoc, d.plain)) throw new Error(`fresh device: document ${i} synced to other contents than stored`);
      });
      if (t > 0) fresh.push(ms);
      if (t === trials) break;
      for (const p of open) await p.close();
      pool.destroy();
    }
    const writer = open[0]!;
    const text = engineOf(writer).plainDoc.getText('note:visits');
    const timed = await timeAccepts(clock, edits, async () => {
      text.insert(0, 'follow-up ');
      await writer.flush(WAIT_MS);
    });
    accept.push(...timed.accept);
    roundTrip.push(...timed.roundTrip);
  } finally {
    clock.restore();
    for (const p of open) await p.close().catch(() => {});
    pool?.destroy();
    await relay.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { fresh, accept, roundTrip };
}

function syncedOn(socket: HocuspocusProviderWebsocket, name: string, document: Y.Doc): Promise<HocuspocusProvider> {
  return new Promise((resolve) => {
    const provider: HocuspocusProvider = new HocuspocusProvider({ websocketProvider: socket, name, document, onSynced: ({ state }) => state && resolve(provider) });
    provider.attach();
  });
}

async function peerCosts(set: DocSet, trials: number, edits: number): Promise<{ fresh: number[]; accept: number[]; roundTrip: number[] }> {
  const server = new Server({ port: 0, quiet: true, stopOnSignals: false });
  await server.listen();
  const url = `ws://127.0.0.1:${server.address.port}`;
  const names = set.docs.map((_, i) => `s13-${i}`);
  const sockets: HocuspocusProviderWebsocket[] = [];
  const providers: HocuspocusProvider[] = [];
  const fresh: number[] = [];
  const accept: number[] = [];
  const roundTrip: number[] = [];
  const clock = acceptClock();
  try {
    const up = new HocuspocusProviderWebsocket({ url });
    sockets.push(up);
    providers.push(
      ...(await within(
        inChunks(set.docs, (d) => {
          const doc = new Y.Doc();
          Y.applyUpdate(doc, d.plain);
          return syncedOn(up, names[set.docs.indexOf(d)]!, doc);
        }),
        WAIT_MS,
        'plain uploads',
      )),
    );
    let open: HocuspocusProvider[] = [];
    for (let t = 0; t <= trials; t++) {
      const socket = new HocuspocusProviderWebsocket({ url });
      sockets.push(socket);
      const t0 = now();
      open = await within(inChunks(names, (n) => syncedOn(socket, n, new Y.Doc())), WAIT_MS, 'plain fresh device');
      const ms = now() - t0;
      set.docs.forEach((d, i) => {
        if (!sameState(open[i]!.document, d.plain)) throw new Error(`plain fresh device: document ${i} synced to other contents`);
      });
      providers.push(...open);
      if (t > 0) fresh.push(ms);
    }
    const writer = open[0]!;
    const text = writer.document.getText('note:visits');
    const timed = await timeAccepts(clock, edits, async () => {
      const acked = new Promise<void>((resolve) => {
        const onCount = ({ number }: { number: number }) => number === 0 && (writer.off('unsyncedChanges', onCount), resolve());
        writer.on('unsyncedChanges', onCount);
      });
      text.insert(0, 'follow-up ');
      await within(acked, 30_000, 'plain server acknowledges the edit');
    });
    accept.push(...timed.accept);
    roundTrip.push(...timed.roundTrip);
  } finally {
    clock.restore();
    for (const p of providers) p.destroy();
    for (const s of sockets) s.destroy();
    await server.destroy();
  }
  return { fresh, accept, roundTrip };
}

export async function relayCosts(set: DocSet, o: { trials: number; edits: number }): Promise<RelayCosts> {
  const ours = await oursCosts(set, o.trials, o.edits);
  const peer = await peerCosts(set, o.trials, o.edits);
  return {
    freshSync: { ours: median(ours.fresh), peer: median(peer.fresh) },
    accept: { ours: median(ours.accept), peer: median(peer.accept) },
    acceptRoundTrip: { ours: median(ours.roundTrip), peer: median(peer.roundTrip) },
  };
}
