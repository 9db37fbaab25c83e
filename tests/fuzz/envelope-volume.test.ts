/**
 * Volume tier of the envelope fuzzer: many short sequences of generated updates (hostile from
 * every role, and honest ones that must pass) through the shared policy and real Yjs
 * integration, in process. Each accepted update's effect is checked on the resulting doc
 * (tests/fuzz/envelope-case.ts). FUZZ_CASES sets the count (CI: 10,000); `npm run fuzz` runs
 * far more across worker threads.
 */
import { describe, expect, it } from 'vitest';
import seeds from './fixtures/envelope-seeds.json' with { type: 'json' };
import { runCase } from './envelope-case.ts';
import { buildWorld } from './envelope-world.ts';
import { testSeed } from '../helpers/prng.ts';

const CASES = Number(process.env.FUZZ_CASES ?? 10_000);

describe('envelope policy fuzzer, volume tier', () => {
  it('every kept counter-example seed passes', async () => {
    const world = await buildWorld();
    for (const { seed } of seeds.seeds) {
      const r = await runCase(world, seed);
      expect(r.failure, `seed ${seed}; rerun: FUZZ_SEED=${seed} FUZZ_CASES=1 npx vitest run tests/fuzz/envelope-volume.test.ts`).toBeUndefined();
    }
  });

  it(`${CASES} random cases keep every envelope invariant`, async () => {
    const world = await buildWorld();
    const first = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : testSeed();
    const totals = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const seed = (first + i) >>> 0;
      const r = await runCase(world, seed);
      for (const [k, v] of r.codes) totals.set(k, (totals.get(k) ?? 0) + v);
      if (r.failure) {
        throw new Error(`${r.failure}\n  seed: ${seed}\n  rerun: FUZZ_SEED=${seed} FUZZ_CASES=1 npx vitest run tests/fuzz/envelope-volume.test.ts -t "random cases"\n  then keep it in tests/fuzz/fixtures/envelope-seeds.json`);
      }
    }
    // The generator must reach the deep rules, not only the shape checks, and honest updates must pass.
    for (const code of ['accepted-honest', 'accepted-hostile', 'ENVELOPE_KEY_EXISTS', 'ENVELOPE_GAP', 'ENVELOPE_DELETE_UNKNOWN', 'ENVELOPE_DELETE_NOT_COVERED', 'RECORD_NOT_WRITER', 'ENVELOPE_CLIENT_NOT_OWNED']) {
      if (CASES >= 2000) expect(totals.get(code) ?? 0, `${code} never reached (first seed ${first})`).toBeGreaterThan(0);
    }
  }, 600_000);
});
