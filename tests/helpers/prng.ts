/**
 * Seeded randomness for tests (after lib0's prng): the seed comes from TEST_SEED or is fresh,
 * and every failure message carries the seed and a one-line rerun command.
 */
export interface Prng {
  readonly seed: number;
  next(): number;
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  bool(p?: number): boolean;
  bytes(n: number): Uint8Array;
  word(): string;
  /** A seeded permutation of `items` (Fisher-Yates, from the last index down), as a new array. */
  shuffled<T>(items: readonly T[]): T[];
}

export function createPrng(seed: number): Prng {
  let a = seed >>> 0;
  // mulberry32: tiny, fast, good enough for test schedules.
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    bool: (p = 0.5) => next() < p,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(0, 255)),
    word: () => Array.from({ length: int(1, 8) }, () => 'abcdefghijklmnopqrstuvwxyz'[int(0, 25)]).join(''),
    shuffled: (items) => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

export function testSeed(): number {
  const env = process.env.TEST_SEED;
  return env ? Number(env) : Math.floor(Math.random() * 2 ** 31); // the only Math.random: choosing the seed
}

/** Runs `body` with a seeded prng; on failure rethrows with the seed and the rerun command. */
export async function withSeed(testFile: string, name: string, body: (prng: Prng) => Promise<void>): Promise<void> {
  const seed = testSeed();
  try {
    await body(createPrng(seed));
  } catch (e) {
    const err = e as Error;
    err.message = `${err.message}\n  seed: ${seed}\n  rerun: TEST_SEED=${seed} npx vitest run ${testFile} -t "${name}"`;
    throw err;
  }
}
