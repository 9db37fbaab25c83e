/**
 * Randomness is injected so protocol code stays deterministic in tests
 * (fixed nonces exist only in tests and known-answer vectors).
 */
export type RandomSource = (length: number) => Uint8Array;

export const secureRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues is limited to 65,536 bytes per call.
  for (let i = 0; i < length; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  return out;
};

/** Deterministic stream for tests and vectors only: xorshift128+ keyed by a seed. Never for keys in production. */
export function seededRandom(seed: number): RandomSource {
  let s0 = (seed >>> 0) ^ 0x9e3779b9;
  let s1 = (Math.imul(seed >>> 0, 0x85ebca6b) >>> 0) ^ 0xc2b2ae35;
  const next = (): number => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return (s0 + s1) >>> 0;
  };
  return (length) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = next() & 0xff;
    return out;
  };
}
