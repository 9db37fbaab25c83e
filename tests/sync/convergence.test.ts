/**
 * Guarantee 1 (and 2, 7): K members edit concurrently through the real encrypt → relay →
 * decrypt path, behind a nemesis that duplicates and reorders frames and cuts connections,
 * with random offline periods. At the end every replica is equal, nothing is pending, a replica
 * rebuilt from its encrypted local log equals the live one, and neither the relay's storage nor
 * any relayed frame contains a canary.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { scanForCanaries, startNemesis } from '../helpers/nemesis.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { appendToList, insertNote, setField } from '../helpers/raw-edits.ts';

const FILE = 'tests/sync/convergence.test.ts';

interface Member {
  signer: SigningKeyPair;
  profile: Profile;
  storage: ReturnType<typeof sqlitePersistence>;
  online: boolean;
}

function randomEdit(p: Profile, prng: Prng, canary: string): void {
  const doc = engineOf(p).plainDoc; // test-only: edits go through the same doc the facade writes
  const text = doc.getText('note:shared');
  switch (prng.int(0, 5)) {
    case 0:
    case 1: {
      const word = prng.bool(0.2) ? ` ${canary} ` : prng.word();
      text.insert(prng.int(0, text.length), word);
      break;
    }
    case 2:
      if (text.length > 0) {
        const at = prng.int(0, text.length - 1);
        text.delete(at, Math.min(prng.int(1, 4), text.length - at));
      }
      break;
    case 3:
      setField(p, 'vitals', `k${prng.int(0, 6)}`, { v: prng.int(0, 200), note: prng.bool(0.1) ? canary : prng.word() });
      break;
    case 4:
      appendToList(p, 'log', [prng.word()]);
      break;
    case 5: {
      const list = doc.getArray('list:log');
      if (list.length > 0) list.delete(prng.int(0, list.length - 1), 1);
      break;
    }
  }
}

/** Resolves at the next change of any profile's data or status (or after `ms`, for the deadline). */
function nextChange(profiles: readonly Profile[], ms: number): Promise<void> {
  return new Promise((resolve) => {
    const stops: Array<() => void> = [];
    let armed = false;
    const done = () => {
      if (!armed) return; // subscribe() calls back at once with the current value
      clearTimeout(timer);
      for (const stop of stops) stop();
      resolve();
    };
    const timer = setTimeout(() => ((armed = true), done()), Math.max(0, ms));
    for (const p of profiles) stops.push(p.changes.subscribe(done), p.status.subscribe(done));
    armed = true;
  });
}

/** Map key order is integration order, which legitimately differs: compare sorted. */
const sortedMap = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

const snapshotOf = (p: Profile) => ({
  text: engineOf(p).plainDoc.getText('note:shared').toString(),
  map: sortedMap(engineOf(p).plainDoc.getMap('vitals').toJSON()),
  list: engineOf(p).plainDoc.getArray('list:log').toJSON(),
});

describe('convergence through a misbehaving network', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const cases = [
    { name: '5 clients converge with duplicates, reorders, cuts and offline periods', clients: 5, steps: 160, compactEvery: 40 },
    // Frequent concurrent snapshots stress the compaction rules (chain links, covered deletes).
    { name: '4 clients converge while compacting every few records', clients: 4, steps: Number(process.env.FHV_STEPS ?? 140), compactEvery: 6 },
  ];
  it.each(cases)('$name', async ({ name, clients: CLIENTS, steps: STEPS, compactEvery }) => {
    await withSeed(FILE, name, async (prng) => {
      const relay = await testRelay();
      cleanups.push(() => relay.destroy());
      const nemesis = await startNemesis({ target: relay.url, prng, duplicate: 0.2, reorder: 0.2 });
      cleanups.push(() => nemesis.close());
      const dirs = Array.from({ length: CLIENTS }, () => tempDir('fhv-client-'));
      cleanups.push(() => dirs.forEach((d) => d.remove()));
      const signers = Array.from({ length: CLIENTS }, () => generateSigningKeyPair());
      const canaries = Array.from({ length: 3 }, (_, i) => `CANARY-${prng.seed}-${i}-allergy-peanut`);

      const members: Member[] = [];
      const common = { relayUrl: nemesis.url, minReconnectDelayMs: 30, compactEvery };
      const firstStorage = sqlitePersistence(dirs[0]!.path);
      const creator = await Profile.create({
        ...common,
        signer: signers[0]!,
        persistence: firstStorage.persistence,
        members: signers.slice(1).map((s) => ({ publicKey: s.publicKey, role: Role.editor, expiresAt: 0 })),
      });
      members.push({ signer: signers[0]!, profile: creator, storage: firstStorage, online: true });
      await creator.flush();
      for (let i = 1; i < CLIENTS; i++) {
        const storage = sqlitePersistence(dirs[i]!.path);
        const profile = await Profile.open({ ...common, signer: signers[i]!, access: creator.access, persistence: storage.persistence });
        members.push({ signer: signers[i]!, profile, storage, online: true });
      }
      cleanups.push(async () => {
        for (const m of members) {
          await m.profile.close();
          m.storage.close();
        }
      });
      await Promise.all(members.map((m) => m.profile.status.when((s) => s.synced)));

      for (let step = 0; step < STEPS; step++) {
        const m = prng.pick(members);
        const roll = prng.next();
        if (roll < 0.06) {
          if (m.online) m.profile.disconnect();
          else await m.profile.connect();
          m.online = !m.online;
        } else if (roll < 0.08) {
          nemesis.cutAll();
        } else {
          randomEdit(m.profile, prng, prng.pick(canaries));
        }
        // Pacing, not synchronisation: lets the network and the nemesis move between edits.
        if (prng.bool(0.3)) await new Promise((r) => setTimeout(r, prng.int(0, 15)));
      }

      // Make sure canaries survive the random deletes, so the scans below prove something.
      setField(members[0]!.profile, 'vitals', 'canary', canaries[0]!);
      insertNote(members[1]!.profile, 'shared', 0, canaries[1]!);
      for (const m of members) if (!m.online) await m.profile.connect();
      for (const m of members) await engineOf(m.profile).sync.flush();
      // Converged = identical plain data everywhere and no local change waiting for the relay.
      const deadline = Date.now() + 45_000;
      let views = members.map((m) => JSON.stringify(snapshotOf(m.profile)));
      while (Date.now() < deadline) {
        await Promise.all(members.map((m) => m.profile.flush().catch(() => undefined)));
        views = members.map((m) => JSON.stringify(snapshotOf(m.profile)));
        if (new Set(views).size === 1 && members.every((m) => m.profile.status.value.state === 'synced')) break;
        await nextChange(members.map((m) => m.profile), deadline - Date.now());
      }
      const statuses = members.map((m) => JSON.stringify({ ...m.profile.status.value, heads: engineOf(m.profile).sync.ownHead.seq, env: engineOf(m.profile).envelopeDoc.getMap('r').size }));
      expect(new Set(views).size, `replicas differ:\n${views.join('\n')}\n${statuses.join('\n')}`).toBe(1);
      for (const m of members) {
        expect(m.profile.status.value.problems).toEqual([]);
        expect(m.profile.status.value.state).toBe('synced');
        expect(engineOf(m.profile).plainDoc.store.pendingStructs).toBeNull();
        expect(engineOf(m.profile).plainDoc.store.pendingDs).toBeNull();
        expect(engineOf(m.profile).envelopeDoc.store.pendingStructs).toBeNull();
      }
      const live = snapshotOf(members[2]!.profile);

      // A replica rebuilt from its encrypted local log alone (no relay) equals the live one.
      const rebuiltStorage = sqlitePersistence(dirs[2]!.path);
      cleanups.push(() => rebuiltStorage.close());
      await members[2]!.profile.close();
      members[2]!.storage.close();
      members.splice(2, 1);
      const rebuilt = await Profile.open({ signer: signers[2]!, access: creator.access, persistence: rebuiltStorage.persistence });
      cleanups.push(() => rebuilt.close());
      expect(snapshotOf(rebuilt)).toEqual(live);

      // Guarantee 2: no canary in relayed frames, the relay's store, or a client's local store.
      const relayed = scanForCanaries(nemesis.frames, canaries);
      const stored = scanForCanaries(relay.store.dumpAll(), canaries);
      const local = scanForCanaries(rebuiltStorage.log.dumpAll(), canaries);
      const used = canaries.filter((c) => live.text.includes(c) || JSON.stringify(live.map).includes(c));
      expect(used.length, 'the run must actually write canaries').toBeGreaterThan(0);
      for (const c of canaries) {
        expect(relayed.get(c), `canary in relayed frames`).toBe(0);
        expect(stored.get(c), `canary in relay storage`).toBe(0);
        expect(local.get(c), `canary in local storage`).toBe(0);
      }
      expect(nemesis.stats.duplicated + nemesis.stats.reordered).toBeGreaterThan(0);
      const snapshots = [...engineOf(rebuilt).envelopeDoc.getMap<Uint8Array>('r').values()].filter((b) => b[3] === 2).length;
      expect(snapshots, 'compaction ran').toBeGreaterThan(0);
      expect(Y.encodeStateVector(engineOf(rebuilt).plainDoc).length).toBeGreaterThan(0);
    });
  });
});
