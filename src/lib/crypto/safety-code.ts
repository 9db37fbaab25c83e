/**
 * A device's safety code: a short number two people compare (read aloud, or side by side) to
 * check that the keys one device is about to add are the keys the other device really has,
 * so a key swapped in transit (chat, email, a relay) is noticed before it gets a lockbox.
 *
 *   h    = H('fhv/safety-code/v1', signingPublicKey ‖ boxPublicKey)
 *   code = 4 groups of 5 digits; group i = uint40(h[5i .. 5i+5]) mod 100000
 *
 * Both keys are covered: a lockbox goes to the box key, records are checked against the signing
 * key, and swapping either one must change the code. 20 digits ≈ 66 bits: a second key pair
 * with the same code cannot be searched for. (The grouping follows Signal's safety numbers.)
 */
import { hashWithDomain } from './hash.ts';

const DOMAIN = 'fhv/safety-code/v1';
const GROUPS = 4;

export function safetyCode(signingPublicKey: Uint8Array, boxPublicKey: Uint8Array): string {
  if (signingPublicKey.length !== 32 || boxPublicKey.length !== 32) throw new RangeError('safety code: both keys are 32 bytes');
  const h = hashWithDomain(DOMAIN, signingPublicKey, boxPublicKey);
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let n = 0;
    // 5 bytes = 40 bits: below 2^53, exact in a JS number.
    for (let i = 0; i < 5; i++) n = n * 256 + h[g * 5 + i]!;
    groups.push(String(n % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}
