/**
 * Profiles a test file opens directly (no relay helper), closed after each test, and the
 * direct-envelope helpers such tests share.
 */
import { afterEach } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';

/** Registers an afterEach that closes every profile passed to the returned `track`. */
export function trackProfiles(): { track: (p: Profile) => Profile; forget: (p: Profile) => void } {
  const profiles: Profile[] = [];
  afterEach(async () => {
    for (const p of profiles.splice(0)) await p.close();
  });
  return {
    track: (p) => (profiles.push(p), p),
    forget: (p) => void profiles.splice(profiles.indexOf(p), 1),
  };
}

/** A member's signing and box keys. */
export const newMember = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

/** A profile's envelope doc (what a relay would hold and forward). */
export const envelopeOf = (p: Profile) => engineOf(p).envelopeDoc;
