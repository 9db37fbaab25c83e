/**
 * Who can be in a profile and what a membership op says: roles and principals, member entries,
 * invites and the op union. Its own module because the codec (membership-codec.ts), the accept
 * proof, the fold's state and the view (membership.ts) all speak these types; kept apart, none
 * of them imports another only for its vocabulary.
 */
import type { BoxPublicKey, SigningPublicKey } from '../crypto/index.ts';
import type { DeviceCert } from './device.ts';

export const Role = { owner: 1, editor: 2, viewer: 3, clinician: 4, emergency: 5 } as const;
export type RoleName = keyof typeof Role;
export type RoleCode = (typeof Role)[RoleName];
export const ROLE_CODES = new Set<number>(Object.values(Role));
const ROLE_NAMES = new Map<number, RoleName>(Object.entries(Role).map(([name, code]) => [code, name as RoleName]));
/** The name of a role code (undefined for the invitee principal or an unknown code). */
export const roleName = (code: number | undefined): RoleName | undefined => (code === undefined ? undefined : ROLE_NAMES.get(code));
/** Not a member role: what an unused invite key may do (read, and accept once). */
export const INVITEE = 100 as const;
export type Principal = RoleCode | typeof INVITEE;

export const isWriterRole = (role: Principal | undefined): boolean => role === Role.owner || role === Role.editor;
export const isAdminRole = (role: Principal | undefined): boolean => role === Role.owner;

export interface MemberEntry {
  /** The member's identity key (or, for single-key members, the key that signs its records). */
  readonly publicKey: SigningPublicKey;
  /** X25519 key lockboxes are addressed to; without it the member receives keys only per device. */
  readonly boxKey?: BoxPublicKey;
  readonly role: RoleCode;
  /** Milliseconds since the epoch; 0 means no expiry. */
  readonly expiresAt: number;
}

export interface Invite {
  readonly inviteKey: SigningPublicKey;
  readonly inviteBox: BoxPublicKey;
  readonly role: RoleCode;
  readonly memberExpiresAt: number;
  readonly inviteExpiresAt: number;
}

export type MembershipBody =
  | { readonly kind: 'genesis'; readonly nonce: Uint8Array; readonly members: readonly MemberEntry[] }
  | { readonly kind: 'set'; readonly member: MemberEntry }
  | { readonly kind: 'remove'; readonly publicKey: SigningPublicKey }
  | { readonly kind: 'rotate'; readonly epoch: number }
  | { readonly kind: 'device'; readonly cert: DeviceCert }
  | { readonly kind: 'revoke-device'; readonly device: SigningPublicKey }
  | { readonly kind: 'invite'; readonly invite: Invite }
  | { readonly kind: 'accept'; readonly member: MemberEntry; /** Signature by `member.publicKey` (see `acceptProofMessage`). */ readonly proof: Uint8Array };

/** An op as written; `clock` defaults to 0 for callers that let the sync engine stamp it. */
export type MembershipOp = MembershipBody & { readonly clock?: number };

