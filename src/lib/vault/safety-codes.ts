/**
 * Safety codes as the app shows them (crypto/safety-code.ts says what a code is): one per
 * member of a profile, from the keys the profile's verified membership holds for them, and the
 * person's own, from the keys this device really holds. Two people compare them in person (read
 * aloud or side by side): the same digits mean lockboxes go to the keys the other person holds,
 * not to keys swapped in on the way (a leaked link, a relay). docs/decisions/0039.
 */
import { safetyCode } from '../crypto/safety-code.ts';
import type { Person } from './person.ts';
import type { Profile } from './profile.ts';

/** Member identity (hex) → safety code, for every member added with a box key (lockboxes reach only those). */
export function memberSafetyCodes(profile: Profile): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, m] of profile.membershipState().members) if (m.boxKey) out.set(key, safetyCode(m.publicKey, m.boxKey));
  return out;
}

/** The person's own code, from the identity keys on this device (what the others should see for them). */
export function personSafetyCode(person: Person): string {
  return safetyCode(person.identity.signing.publicKey, person.identity.box.publicKey);
}
