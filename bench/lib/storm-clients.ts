/**
 * S7's reconnect storm, client side: one child process (forked by s7-catchup-storm.ts) holding
 * `profiles` family profiles with `devices` devices each, all connected to one server. The
 * storm's clients are spread over several such processes, as 1,000 devices are not one machine
 * (and 1,000 real vault clients do not fit one event loop).
 *  - encrypted: per profile, the owner's `Profile.create` with the other devices as editors and
 *    one vitals record, flushed; then each other device `Profile.open`s it (own key, own engine,
 *    own WebSocket, the app's default reconnect back-off);
 *  - plain: per document, `devices` stock `HocuspocusProvider`s on plain `Y.Doc`s (stock
 *    options), the first writing the same kind of record into a `Y.Array`.
 * Protocol (IPC): it sends {type:'ready', clients, setupMs} once every client is synced;
 * {type:'arm'} starts watching each client (the first time it stops being synced, then the first
 * time it is synced again) and answers 'armed'; {type:'collect', timeoutMs} answers {type:'back',
 * backAt (epoch ms per client, null if not back in time), lost (clients that noticed the drop),
 * syncedNow, cpuMs (this process's CPU since 'arm')};
 * {type:'close'} exits.
 */
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { deviceEngine } from './sides.ts';
import { now, prng, within } from './common.ts';

export interface StormClientSetup {
  readonly kind: 'encrypted' | 'plain';
  readonly url: string;
  readonly profiles: number;
  readonly devices: number;
  /** Distinguishes this process's documents (plain side) and seeds its records. */
  readonly shard: number;
}

/** One client as the storm sees it: whether it is synced, and a way to hear every change of that. */
interface Watched {
  synced(): boolean;
  /** The socket's state: 'connecting' once per attempt, 'connected' once it is open. */
  connection(): string;
  onChange(fn: () => void): void;
  close(): Promise<void>;
}

const setup = JSON.parse(process.argv[2] ?? '{}') as StormClientSetup;
const epochNow = () => performance.timeOrigin + now();
const next = prng(7000 + setup.shard);

async function encryptedProfile(): Promise<Watched[]> {
  const keys = Array.from({ length: setup.devices }, () => generateSigningKeyPair());
  const [ownerKey, ...others] = keys;
  const owner = await Profile.create({
    relayUrl: setup.url,
    engine: await deviceEngine(),
    signer: ownerKey!,
    members: others.map((k) => ({ publicKey: k.publicKey, role: Role.editor, expiresAt: 0 })),
  });
  owner.records.put('list:vitals', generateRecord('list:vitals', next));
  await within(owner.flush(), 60_000, 'owner genesis reaches the relay');
  const opened = await Promise.all(others.map(async (k) => Profile.open({ relayUrl: setup.url, engine: await deviceEngine(), signer: k, access: owner.access })));
  const all = [owner, ...opened];
  await Promise.all(all.map((p) => p.status.when((s) => s.state === 'synced', 120_000)));
  return all.map((p) => ({
    synced: () => p.status.value.state === 'synced',
    connection: () => p.status.value.connection,
    onChange: (fn) => void p.status.subscribe(fn),
    close: () => p.close(),
  }));
}

async function plainDocument(index: number): Promise<Watched[]> {
  const name = `storm-${setup.shard}-${index}`;
  const docs = Array.from({ length: setup.devices }, () => new Y.Doc());
  docs[0]!.getArray('list:vitals').push([generateRecord('list:vitals', next)]);
  const providers = await Promise.all(
    docs.map((document) =>
      within(
        new Promise<HocuspocusProvider>((resolve) => {
          const p: HocuspocusProvider = new HocuspocusProvider({ url: setup.url, name, document, onSynced: ({ state }) => state && resolve(p) });
        }),
        120_000,
        'plain device synced',
      ),
    ),
  );
  return providers.map((p) => {
    let connection = 'connected';
    p.on('status', ({ status }: { status: string }) => (connection = status));
    return {
      synced: () => p.synced && !p.hasUnsyncedChanges,
      connection: () => connection,
      // 'close' when the socket drops (the provider is no longer synced), 'synced' when caught up;
      // its sync step 1 counts as an unsynced change until the server answers, so that too.
      onChange: (fn) => {
        p.on('close', fn);
        p.on('synced', fn);
        p.on('unsyncedChanges', fn);
        p.on('status', fn);
      },
      close: async () => p.destroy(),
    };
  });
}

async function main(): Promise<void> {
  const t0 = now();
  const clients: Watched[] = [];
  // A few profiles at a time: each opens its devices concurrently, as a family's phones would.
  const parallel = 4;
  for (let i = 0; i < setup.profiles; i += parallel) {
    const batch = Array.from({ length: Math.min(parallel, setup.profiles - i) }, (_, j) => (setup.kind === 'encrypted' ? encryptedProfile() : plainDocument(i + j)));
    for (const c of await Promise.all(batch)) clients.push(...c);
  }
  const send = (m: unknown) => process.send!(m);
  const lostAt: Array<number | null> = clients.map(() => null);
  const backAt: Array<number | null> = clients.map(() => null);
  /** Per client since the cut: connection attempts, and when its socket was last opened before it was back. */
  const attempts = clients.map(() => 0);
  const openedAt: Array<number | null> = clients.map(() => null);
  const lastConnection = clients.map((c) => c.connection());
  let armed = false;
  let cpuAtArm = process.cpuUsage();
  let waiting: (() => void) | undefined;
  clients.forEach((c, i) =>
    c.onChange(() => {
      if (!armed) return;
      const synced = c.synced();
      const connection = c.connection();
      if (connection !== lastConnection[i] && backAt[i] === null) {
        if (connection === 'connecting') attempts[i]!++;
        if (connection === 'connected') openedAt[i] = epochNow();
      }
      lastConnection[i] = connection;
      if (!synced && lostAt[i] === null) lostAt[i] = epochNow();
      else if (synced && lostAt[i] !== null && backAt[i] === null) {
        backAt[i] = epochNow();
        if (backAt.every((b) => b !== null)) waiting?.();
      }
    }),
  );
  process.on('message', (m: { type: string; timeoutMs?: number }) => {
    if (m.type === 'arm') {
      lostAt.fill(null);
      backAt.fill(null);
      attempts.fill(0);
      openedAt.fill(null);
      armed = true;
      cpuAtArm = process.cpuUsage();
      send({ type: 'armed' });
    } else if (m.type === 'collect') {
      void (async () => {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, m.timeoutMs ?? 120_000);
          waiting = () => (clearTimeout(timer), resolve());
          if (backAt.every((b) => b !== null)) waiting();
        });
        waiting = undefined;
        armed = false;
        const cpu = process.cpuUsage(cpuAtArm);
        send({ type: 'back', backAt: [...backAt], lost: lostAt.filter((l) => l !== null).length, syncedNow: clients.filter((c) => c.synced()).length, attempts, openedAt, cpuMs: (cpu.user + cpu.system) / 1000 });
      })();
    } else if (m.type === 'close') {
      void Promise.race([Promise.all(clients.map((c) => c.close().catch(() => undefined))), new Promise((r) => setTimeout(r, 10_000))]).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', clients: clients.length, setupMs: now() - t0, rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024) });
}

void main().catch((e: unknown) => {
  console.error('[storm clients]', e);
  process.exit(1);
});
