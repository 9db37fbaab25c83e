/**
 * The CLI's read models over a profile, from the facade's public ones (membershipState,
 * heldKeys, accessBundle): what it can read, who has access, which keys to keep.
 */
import { toHex } from '../lib/crypto/index.ts';
import { safetyCode } from '../lib/crypto/safety-code.ts';
import { roleName } from '../lib/vault/app.ts';
import type { Profile, ProfileAccess } from '../lib/vault/profile.ts';

/** Genesis names at least its creator as owner: no member at all means no membership log here yet. */
export const hasGenesis = (p: Profile): boolean => p.membershipState().members.size > 0;
export const currentEpoch = (p: Profile): number => p.membershipState().epoch;
export const holdsCurrentKey = (p: Profile): boolean => p.heldKeys().has(currentEpoch(p));

export type Readability = 'ok' | 'not-synced' | 'not-member' | 'no-key';

export function canRead(p: Profile): Readability {
  if (!hasGenesis(p)) return 'not-synced';
  if (p.role === undefined) return 'not-member';
  if (!holdsCurrentKey(p)) return 'no-key';
  return 'ok';
}

/** What the keyring keeps after a session: every epoch key the device now holds (lockboxes add some). */
export function accessNow(p: Profile): ProfileAccess {
  return { ...p.accessBundle(), genesisNonce: p.access.genesisNonce };
}

export interface MemberView {
  readonly member: string;
  readonly role: string;
  readonly expiresAt: number;
  /** Whether lockboxes reach this member (added with a box key), and the code to compare. */
  readonly lockbox: boolean;
  readonly safetyCode?: string;
  readonly devices: Array<{ device: string; revoked: boolean; safetyCode: string }>;
}

export function membersOf(p: Profile): MemberView[] {
  const state = p.membershipState();
  return [...state.members.values()].map((m) => {
    const hex = toHex(m.publicKey);
    const devices = [...state.devices]
      .filter(([, d]) => d.identity === hex)
      .map(([device, d]) => ({ device, revoked: state.revokedDevices.has(device), safetyCode: safetyCode(d.cert.device, d.cert.deviceBox) }));
    return {
      member: hex,
      role: roleName(m.role) ?? String(m.role),
      expiresAt: m.expiresAt,
      lockbox: m.boxKey !== undefined,
      ...(m.boxKey ? { safetyCode: safetyCode(m.publicKey, m.boxKey) } : {}),
      devices,
    };
  });
}

/** Which member identity a device key belongs to (undefined: not a certified device here). */
export function identityOfDevice(p: Profile, deviceHex: string): string | undefined {
  return p.membershipState().devices.get(deviceHex)?.identity;
}
