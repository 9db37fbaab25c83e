/**
 * What the membership fold (membership.ts `MembershipView`) produces, and the pure rules on it
 * that `check`, the fold and the view's answers share: whom a key acts for, whether a key is
 * taken, whether a device key is free, whether an owner is left. Separate from the view so those
 * rules read as functions of the state alone, the same in every place that applies them.
 */
import { bytesEqual, toHex, type BoxPublicKey, type SigningPublicKey } from '../crypto/index.ts';
import type { DeviceCert } from './device.ts';
import { Role, type Invite, type MemberEntry, type MembershipOp, type RoleCode } from './membership-types.ts';
import type { ParsedRecord } from './record.ts';

export interface Entry {
  readonly record: ParsedRecord;
  readonly op: MembershipOp & { clock: number };
}

export interface DeviceState {
  readonly identity: string;
  readonly cert: DeviceCert;
}

export interface InviteState {
  readonly invite: Invite;
  used: boolean;
  /** Hex key of the member its accept bound (who this invitation turned into; names, decision 0038). */
  acceptedBy?: string;
  /** Clock of the invite op: its accept must come later. */
  readonly clock: number;
}

/** The folded state: members by identity, certified devices, invites, current epoch. */
export interface MembershipState {
  readonly members: Map<string, MemberEntry>;
  readonly devices: Map<string, DeviceState>;
  readonly revokedDevices: Set<string>;
  readonly invites: Map<string, InviteState>;
  readonly epoch: number;
  readonly clock: number;
  /**
   * Keys that held a role and lost it (removed members, revoked devices): the role they last had
   * and the epoch current when they lost it (the newest key they can have held).
   */
  readonly former: Map<string, { readonly role: RoleCode; readonly epoch: number }>;
}

/** Someone a lockbox can be addressed to: a member identity or one of its devices. */
export interface Recipient {
  readonly publicKey: SigningPublicKey;
  readonly boxKey: BoxPublicKey;
  readonly role: RoleCode;
}

/** Resolves a signing key to the member it acts for: the identity itself, or a certified, unrevoked device of it. */
export function principalOf(key: Uint8Array, state: MembershipState): { identity: string; role: RoleCode; expiresAt: number } | undefined {
  const hex = toHex(key);
  const direct = state.members.get(hex);
  if (direct) return { identity: hex, role: direct.role, expiresAt: direct.expiresAt };
  const device = state.devices.get(hex);
  if (!device || state.revokedDevices.has(hex)) return undefined;
  const member = state.members.get(device.identity);
  return member ? { identity: device.identity, role: member.role, expiresAt: member.expiresAt } : undefined;
}

export const hasOwner = (state: MembershipState): boolean => [...state.members.values()].some((m) => m.role === Role.owner);

/** A key an accept may not bind: a member (any role), a certified device (even revoked) or an invite key. */
export function isTaken(key: Uint8Array, state: MembershipState): boolean {
  const hex = toHex(key);
  return state.members.has(hex) || state.devices.has(hex) || state.invites.has(hex);
}

/**
 * A device key may be certified only if it is not a member identity or an invite key and not
 * already another identity's device (first certificate wins): otherwise a member could certify
 * someone else's key as its own device and make it act with its own, lower role.
 */
export function deviceKeyFree(cert: DeviceCert, state: MembershipState): boolean {
  const hex = toHex(cert.device);
  const existing = state.devices.get(hex);
  if (existing) return existing.identity === toHex(cert.identity);
  return !state.invites.has(hex) && (!state.members.has(hex) || bytesEqual(cert.device, cert.identity));
}
