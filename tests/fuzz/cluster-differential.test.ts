/**
 * Differential fuzz of the several-instance relay (decision 0048), in process with the relay's
 * own policy and ingest (tests/fuzz/cluster-case.ts): hostile and honest updates through one or
 * both instances, Redis-like exchanges in random batches, a remote message landing during a
 * check. Threat model claim 96. CLUSTER_CASES sets the count.
 */
import { describe, expect, it } from 'vitest';
import seeds from './fixtures/cluster-seeds.json' with { type: 'json' };
import * as Y from 'yjs';
import { toHex } from '../../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, RecordType } from '../../src/lib/protocol/index.ts';
import { deliver, instance, liveOf, runClusterCase } from './cluster-case.ts';
import { encodeRawUpdate } from './raw-update.ts';
import { buildWorld, engine, T0 } from './envelope-world.ts';
import { testSeed } from '../helpers/prng.ts';

const CASES = Number(process.env.CLUSTER_CASES ?? 400);
const FILE = 'tests/fuzz/cluster-differential.test.ts';

describe('two relay instances through Redis agree with one relay', () => {
  it('every kept counter-example seed passes', async () => {
    const world = await buildWorld();
    for (const { seed, oneSided } of seeds.seeds) {
      const r = await runClusterCase(world, seed, { oneSided });
      expect(r.failure, `seed ${seed} (${seeds.seeds.find((s) => s.seed === seed)?.why})`).toBeUndefined();
    }
  }, 300_000);

  for (const oneSided of [true, false]) {
    const name = oneSided ? 'a hostile member on instance A: B ends up exactly as A (the single relay)' : 'members on both instances, racing: both agree, with their documents and on every verdict';
    it(name, async () => {
      const world = await buildWorld();
      const first = testSeed();
      const totals = new Map<string, number>();
      console.log(`seed ${first}; rerun: TEST_SEED=${first} npx vitest run ${FILE}`);
      for (let i = 0; i < CASES; i++) {
        const seed = (first + i) >>> 0;
        const r = await runClusterCase(world, seed, { oneSided });
        for (const [k, v] of r.codes) totals.set(k, (totals.get(k) ?? 0) + v);
        if (r.failure) throw new Error(`${r.failure}\n  case seed: ${seed} (oneSided ${oneSided})\n  rerun: TEST_SEED=${seed} CLUSTER_CASES=1 npx vitest run ${FILE} -t "${name.slice(0, 30)}"\n  then keep it in tests/fuzz/fixtures/cluster-seeds.json`);
      }
      // The generator reaches acceptance of both kinds and the deep refusals.
      for (const code of ['accepted-honest', 'accepted-hostile', 'ENVELOPE_KEY_EXISTS', 'ENVELOPE_CLIENT_NOT_OWNED']) expect(totals.get(code) ?? 0, code).toBeGreaterThan(0);
    }, 600_000);
  }

  it('known limit (threat model): one clientID written through both instances in one round trip stays split', async () => {
    // Pins the limit the attack round found and left open: when this fails, it is fixed; update
    // docs/threat-model.md "Known limits" and row 96.
    const world = await buildWorld();
    const [a, b] = [instance(world, 'A'), instance(world, 'B')];
    const client = 3_900_000_000;
    const [first, second] = world.pool.filter((p) => p.role === 'editor' && p.record.header.type === RecordType.update);
    for (const [x, p] of [[a, first!], [b, second!]] as const) {
      const bytes = encodeRawUpdate([{ client, clock: 0, structs: [{ kind: 'item', origin: null, rightOrigin: null, parent: 'r', parentSub: p.key, content: { kind: 'binary', bytes: p.bytes } }] }], []);
      const v = await checkEnvelopeUpdate(bytes, x.index, { engine, now: T0, stateOf: (c) => Y.getState(x.doc.store, c), sender: toHex(world.keys.editor.publicKey) });
      expect(v.ok).toBe(true);
      if (v.ok) v.value.commit();
      Y.applyUpdate(x.doc, bytes);
    }
    deliver(a, b);
    deliver(b, a);
    expect(Y.encodeStateVector(a.doc)).toEqual(Y.encodeStateVector(b.doc)); // Yjs sees nothing left to exchange
    expect(liveOf(a.doc)).not.toBe(liveOf(b.doc)); // yet each keeps its own record
  });
});
