/**
 * Every place the CLI reads the sync engine behind the facade (`profile.sync…`), in one file:
 * the facade does not expose these read models yet (issue 10, Deliver 4), and when it does,
 * this file is the only one to change.
 */
import { toHex } from '../lib/crypto/index.ts';
import { safetyCode } from '../lib/crypto/safety-code.ts';
import { roleName } from '../lib/vault/app.ts';
import type { Profile, ProfileAccess } from '../lib/vault/profile.ts';

export const hasGenesis = (p: Profile): boolean => p.sync.index.membership.hasGenesis;
export const currentEpoch = (p: Profile): number => p.sync.currentEpoch;
export const holdsCurrentKey = (p: Profile): boolean => p.sync.keys.has(p.sync.currentEpoch);

export type Readability = 'ok' | 'not-synced' | 'not-member' | 'no-key';

export function canRead(p: Profile): Readability {
  if (!hasGenesis(p)) return 'not-synced';
  if (p.role === undefined) return 'not-member';
  if (!holdsCurrentKey(p)) return 'no-key';
  return 'ok';
}

/** What the keyring keeps after a session: every epoch key the device now holds (lockboxes add some). */
export function accessNow(p: Profile): ProfileAccess {
  return { docId: p.access.docId, epoch: p.sync.currentEpoch, epochKeys: new Map(p.sync.keys.entries()), genesisNonce: p.access.genesisNonce };
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
  const state = p.sync.index.membership.state();
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
  return p.sync.index.membership.state().devices.get(deviceHex)?.identity;
}
