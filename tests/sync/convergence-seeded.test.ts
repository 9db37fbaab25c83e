/**
 * Guarantee 1, reproducibly: K replicas edit through the facade's validated record operations
 * (records from the schema generators), notes and display names, go offline (queues held) or
 * lose their connection (queues dropped, re-sync on reconnect), and compact, while the seeded
 * TestConnector decides every delivery. At the end every replica is equal in every view, holds
 * the relay's envelope exactly, nothing is pending, and the relay holds no plaintext.
 *
 * One seed is one interleaving: the last test runs a seed twice and compares the delivery trace
 * and the final state vectors. More steps: FHV_SEEDED_STEPS=600; a given seed: TEST_SEED=….
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateRecord } from '../../crdt-schemas/health/generate.ts';
import { SECTION_NAMES } from '../../crdt-schemas/health/sections.ts';
import { ENVELOPE_MAP, RecordType, Role } from '../../src/lib/protocol/index.ts';
import { scanForCanaries } from '../helpers/nemesis.ts';
import { createPrng, withSeed, type Prng } from '../helpers/prng.ts';
import { linkStep, NOTE, viewOf, World, type Replica } from '../helpers/replica-world.ts';
import { seamOf } from '../helpers/test-connector.ts';

const FILE = 'tests/sync/convergence-seeded.test.ts';
const STEPS = Number(process.env.FHV_SEEDED_STEPS ?? 90);

/** One random facade operation by a writer; returns a short label for the op log. */
function edit(r: Replica, prng: Prng, canary: string): string {
  const p = r.profile;
  const roll = prng.next();
  if (roll < 0.4) {
    const section = prng.pick(SECTION_NAMES);
    p.records.put(section, generateRecord(section, prng.next));
    return `put ${section}`;
  }
  if (roll < 0.65) {
    const section = prng.pick(SECTION_NAMES);
    const existing = p.records.list(section) as Array<{ id: string }>;
    if (existing.length === 0) return 'edit (none)';
    const id = prng.pick(existing).id;
    if (prng.bool(0.3)) {
      p.records.remove(section, id);
      return `remove ${section}`;
    }
    p.records.put(section, { ...generateRecord(section, prng.next), id });
    return `edit ${section}`;
  }
  if (roll < 0.93) {
    const note = p.note(NOTE);
    const at = prng.int(0, note.text.length);
    const del = prng.bool(0.3) ? Math.min(prng.int(1, 5), note.text.length - at) : 0;
    note.replace(at, del, prng.bool(0.15) ? ` ${canary} ` : prng.word());
    return 'note';
  }
  p.setDisplayName(prng.bool(0.3) ? canary : prng.word());
  return 'name';
}

interface Outcome {
  trace: string;
  deliveries: number;
  relayVector: Uint8Array;
  plainVectors: Uint8Array[];
}

/** One seeded run; asserts convergence and returns what a rerun must reproduce. */
async function run(prng: Prng, world: World, o: { replicas: number; steps: number }): Promise<Outcome> {
  const canaries = [0, 1, 2].map((i) => `CANARY-${prng.seed}-${i}-allergy-peanut`);
  const owner = world.newMember(Role.owner);
  const others = Array.from({ length: o.replicas - 1 }, (_, i) => world.newMember(i === o.replicas - 2 ? Role.viewer : Role.editor));
  await world.create('owner', owner, others);
  for (const [i, m] of others.entries()) await world.open(`m${i + 1}`, m);
  const ops: string[] = [];
  for (let step = 0; step < o.steps; step++) {
    const r = prng.pick(world.replicas);
    const roll = prng.next();
    let op: string;
    const linked = await linkStep(world, r, roll, { pause: 0.06, connect: 0.1, compact: 0.14 });
    if (linked !== undefined) op = linked;
    else if (roll < 0.17) {
      world.clock.t += prng.int(1, 60_000);
      op = 'tick';
    } else op = r.profile.canWrite ? edit(r, prng, prng.pick(canaries)) : 'idle';
    await seamOf(r.profile).settle();
    ops.push(`${r.name}:${op}`);
    for (let n = prng.int(0, 5); n > 0; n--) await world.connector.flushRandomMessage(prng);
  }
  // Canaries that survive the random deletes, so the scan below proves something.
  const [owner0, editor1] = world.replicas;
  owner0!.profile.note(NOTE).replace(0, 0, canaries[0]!);
  editor1!.profile.setDisplayName(canaries[1]!);
  await world.quiesce();

  const c = world.connector;
  const context = () => `ops: ${ops.join(' ')}\nended: ${JSON.stringify(c.ended)}`;
  expect(c.ended, context()).toEqual([]); // honest members: the relay refused nothing
  const views = await Promise.all(world.replicas.map((r) => viewOf(r.profile, world.now())));
  for (const [i, v] of views.entries()) expect(v, `${world.replicas[i]!.name} differs from owner\n${context()}`).toEqual(views[0]);
  expect(views[0]!.status).toEqual({ pending: 0, gaps: 0, problems: [] });
  expect(views[0]!.note).toContain(canaries[0]);
  expect(views[0]!.history.length, 'the run wrote records').toBeGreaterThan(0);
  const relayVector = Y.encodeStateVector(c.relayDoc);
  for (const r of world.replicas) {
    const seam = seamOf(r.profile);
    expect(Y.encodeStateVector(seam.envelope), `${r.name} envelope`).toEqual(relayVector);
    expect(seam.plainStateVector(), `${r.name} plain doc`).toEqual(seamOf(owner0!.profile).plainStateVector());
    expect(seam.plainPending(), `${r.name} has structs waiting`).toBe(false);
  }
  // Only ciphertext at the relay: no canary in its stored envelope.
  const hits = scanForCanaries([c.relayState()], canaries);
  for (const canary of canaries) expect(hits.get(canary), canary).toBe(0);
  return { trace: c.traceDigest(), deliveries: c.deliveries, relayVector, plainVectors: world.replicas.map((r) => seamOf(r.profile).plainStateVector()) };
}

describe('seeded convergence on the in-memory connector', () => {
  const worlds: World[] = [];
  afterEach(async () => {
    for (const w of worlds.splice(0)) await w.close();
  });
  const fresh = (prng: Prng, compactEvery: number, batchWindowMs?: number) => {
    const w = new World(prng, { compactEvery, batchWindowMs });
    worlds.push(w);
    return w;
  };

  it('4 replicas converge in every view through pauses, drops and compactions', () =>
    withSeed(FILE, '4 replicas converge', async (prng) => {
      const world = fresh(prng, 12);
      const out = await run(prng, world, { replicas: 4, steps: STEPS });
      expect(out.deliveries).toBeGreaterThan(0);
      // Compaction ran (by hand or every 12 records): the relay holds a snapshot.
      const stored = [...world.connector.relayDoc.getMap<Uint8Array>(ENVELOPE_MAP).values()];
      expect(stored.some((bytes) => bytes[3] === RecordType.snapshot)).toBe(true);
    }));

  // Adaptive batching (decision 0021) on: a solo burst waits for the window (a real timer),
  // a remote record cuts it short, and while others are active (injected clock) each record
  // is sealed once the previous one is. Not in the determinism test: the window is wall time.
  it('4 replicas converge with the batch window on (adaptive batching)', () =>
    withSeed(FILE, '4 replicas converge with the batch window', async (prng) => {
      const world = fresh(prng, 12, 20);
      const out = await run(prng, world, { replicas: 4, steps: STEPS });
      expect(out.deliveries).toBeGreaterThan(0);
    }));

  it('the same seed gives the same delivery trace and the same final state', () =>
    withSeed(FILE, 'the same seed gives the same', async (prng) => {
      const seed = prng.seed;
      const steps = Math.min(STEPS, 50);
      const a = await run(createPrng(seed), fresh(createPrng(seed), 8), { replicas: 3, steps });
      const b = await run(createPrng(seed), fresh(createPrng(seed), 8), { replicas: 3, steps });
      expect(b.trace).toBe(a.trace);
      expect(b.deliveries).toBe(a.deliveries);
      expect(b.relayVector).toEqual(a.relayVector);
      expect(b.plainVectors).toEqual(a.plainVectors);
      const other = await run(createPrng(seed + 1), fresh(createPrng(seed + 1), 8), { replicas: 3, steps });
      expect(other.trace, 'another seed, another interleaving').not.toBe(a.trace);
    }));
});
