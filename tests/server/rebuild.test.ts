/**
 * The relay rebuilds its view of a document from storage at start: what it stored under older
 * rules is quarantined (kept, reported, never a reason to lock members out), and documents
 * stored before clientID owners were kept get owners from their live records.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as Y from 'yjs';
import { toBase64Url } from '../../src/lib/crypto/index.ts';
import { decodeMembershipExt, RecordType } from '../../src/lib/protocol/index.ts';
import { SqliteEnvelopeLog } from '../../src/lib/storage/sqlite-log.ts';
import { buildWorld, T0, type RoleName, type World } from '../fuzz/envelope-world.ts';
import { honestRecord } from '../fuzz/hostile.ts';
import { encodeRawUpdate } from '../fuzz/raw-update.ts';
import { createPrng } from '../helpers/prng.ts';
import { RawSyncClient } from '../helpers/raw-sync-client.ts';
import { jsonLogger, silentLogger, type RelayLogger } from '../../server/log.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

type TestRelay = Awaited<ReturnType<typeof testRelay>>;

describe('relay rebuild from storage', () => {
  let relay: TestRelay | undefined;
  let dir: ReturnType<typeof tempDir> | undefined;
  const clients: RawSyncClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await relay?.destroy();
    dir?.remove();
    vi.restoreAllMocks();
  });

  async function start(world: World, state: Uint8Array, bindings: ReadonlyArray<readonly [number, string]>, logger: RelayLogger = silentLogger) {
    dir = tempDir('fhv-rebuild-');
    const store = new SqliteEnvelopeLog(dir.path);
    store.store(toBase64Url(world.docId), state, T0);
    store.bindClients(toBase64Url(world.docId), bindings);
    store.close();
    relay = await testRelay({ now: () => T0, logger, dataDir: dir.path });
  }
  const connect = async (world: World, role: RoleName) => {
    const c = await RawSyncClient.connect(relay!.url, toBase64Url(world.docId), world.docId, world.keys[role], T0);
    clients.push(c);
    return c;
  };
  const send = async (world: World, role: RoleName, update: Uint8Array) => {
    const c = await connect(world, role);
    c.sendUpdate(update);
    return c.barrier();
  };
  const stateOf = (world: World) => {
    const d = new Y.Doc();
    Y.applyUpdate(d, relay!.store.load(toBase64Url(world.docId))!);
    return (c: number) => Y.getState(d.store, c);
  };

  it('a stored membership record the fold refuses is quarantined: reported, and no one gains or loses access', async () => {
    const world = await buildWorld();
    const forged = world.pool.find((p) => {
      if (p.role !== 'viewer' || p.record.header.type !== RecordType.membership) return false;
      const op = decodeMembershipExt(p.record.header.ext);
      return op.ok && op.value.kind === 'set';
    })!;
    // Stored under older, laxer rules: the viewer's "make me owner" sits in the document.
    const smuggled = encodeRawUpdate([{ client: 4242, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: forged.key, content: { kind: 'binary', bytes: forged.bytes } }] }], []);
    const lines: string[] = [];
    await start(world, Y.mergeUpdates([world.state, smuggled]), world.bindings, jsonLogger((l) => lines.push(l)));
    for (const role of ['owner', 'editor', 'viewer'] as const) expect((await connect(world, role)).authenticated, role).toBe(true);
    expect(lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'records_quarantined')).toEqual([expect.objectContaining({ count: 1, codes: 'RECORD_NOT_ADMIN' })]);
    // The viewer is still a viewer: its record is refused; the owner still writes.
    const viewerWrite = world.pool.find((p) => p.role === 'viewer' && p.record.header.type === RecordType.update)!;
    const own = createPrng(3).int(1, 2 ** 31);
    const attempt = encodeRawUpdate([{ client: own, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: viewerWrite.key, content: { kind: 'binary', bytes: viewerWrite.bytes } }] }], []);
    expect(await send(world, 'viewer', attempt)).toBe('RECORD_NOT_WRITER');
    const next = await honestRecord(createPrng(2), world, { items: world.items, stateOf: stateOf(world) }, { seq: 60_000, writers: ['owner'] });
    expect(await send(world, 'owner', next.bytes)).toBeNull();
  });

  it('a document stored before owners were kept gets them from its live records; a clientID whose records were all compacted is frozen', async () => {
    const world = await buildWorld();
    await start(world, world.state, []);
    for (const role of ['owner', 'editor', 'viewer'] as const) expect((await connect(world, role)).authenticated, role).toBe(true);
    const owners = new Map(relay!.store.clientOwners(toBase64Url(world.docId)));
    const [ownerHex] = world.bindings.filter(([c]) => c === world.ownerClient).map(([, o]) => o);
    expect(owners.get(world.ownerClient)).toBe(ownerHex);
    const next = await honestRecord(createPrng(2), world, { items: world.items, stateOf: stateOf(world) }, { seq: 60_000, writers: ['owner'] });
    expect(await send(world, 'owner', next.bytes)).toBeNull();
    // The editor's records on 2,000,000 were all compacted before the upgrade: nobody can write there.
    expect(owners.has(2_000_000)).toBe(false);
    const editors = await honestRecord(createPrng(4), world, { items: world.items, stateOf: stateOf(world) }, { seq: 60_001, writers: ['editor'] });
    expect(await send(world, 'editor', editors.bytes)).toBe('ENVELOPE_CLIENT_NOT_OWNED');
  });
});
