/**
 * Membership records (cleartext, signed; the relay reads them to enforce writes, clients verify
 * them themselves). This is the v1 subset: genesis by the creator, then owner-signed
 * set-role and remove entries.
 *   ext = kind(u8) ‖ ...
 *     genesis(0): nonce(16) ‖ count(u16) ‖ count × entry     (creator's seq 1; docId = H(creator ‖ nonce))
 *     set(1):     entry
 *     remove(2):  publicKey(32)
 *     rotate(3):  epoch(u32)            a new epoch key; its lockboxes follow
 *   entry = publicKey(32) ‖ boxKey(32, zero = none) ‖ role(u8) ‖ expiresAt(u48 ms, 0 = never)
 */
import { bytesEqual, isAllZero, toHex, type BoxPublicKey, type SigningPublicKey } from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { PUBLIC_KEY_LENGTH, RecordType } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import { deriveDocId } from './ids.ts';
import type { ParsedRecord } from './record.ts';

export const Role = { owner: 1, editor: 2, viewer: 3, clinician: 4, emergency: 5 } as const;
export type RoleName = keyof typeof Role;
export type RoleCode = (typeof Role)[RoleName];
const ROLE_CODES = new Set<number>(Object.values(Role));

export const isWriterRole = (role: RoleCode | undefined): boolean => role === Role.owner || role === Role.editor;
export const isAdminRole = (role: RoleCode | undefined): boolean => role === Role.owner;

export interface MemberEntry {
  readonly publicKey: SigningPublicKey;
  /** X25519 key lockboxes are addressed to; without it the member receives no new keys. */
  readonly boxKey?: BoxPublicKey;
  readonly role: RoleCode;
  /** Milliseconds since the epoch; 0 means no expiry. */
  readonly expiresAt: number;
}

export const GENESIS_NONCE_LENGTH = 16;

export type MembershipOp =
  | { readonly kind: 'genesis'; readonly nonce: Uint8Array; readonly members: readonly MemberEntry[] }
  | { readonly kind: 'set'; readonly member: MemberEntry }
  | { readonly kind: 'remove'; readonly publicKey: SigningPublicKey }
  | { readonly kind: 'rotate'; readonly epoch: number };

const NO_BOX_KEY = new Uint8Array(32);
const writeEntry = (w: ByteWriter, e: MemberEntry): ByteWriter =>
  w.bytes(e.publicKey).bytes(e.boxKey ?? NO_BOX_KEY).u8(e.role).u48(e.expiresAt);

export function encodeMembershipExt(op: MembershipOp): Uint8Array {
  const w = new ByteWriter();
  switch (op.kind) {
    case 'genesis':
      w.u8(0).bytes(op.nonce).u16(op.members.length);
      for (const m of op.members) writeEntry(w, m);
      break;
    case 'set':
      writeEntry(w.u8(1), op.member);
      break;
    case 'remove':
      w.u8(2).bytes(op.publicKey);
      break;
    case 'rotate':
      w.u8(3).u32(op.epoch);
      break;
  }
  return w.finish();
}

function readEntry(r: ByteReader): MemberEntry | null {
  const publicKey = r.take(PUBLIC_KEY_LENGTH);
  const boxKey = r.take(PUBLIC_KEY_LENGTH);
  const role = r.u8();
  const expiresAt = r.u48();
  if (publicKey === null || boxKey === null || role === null || expiresAt === null || !ROLE_CODES.has(role)) return null;
  const entry = { publicKey: publicKey as SigningPublicKey, role: role as RoleCode, expiresAt };
  return isAllZero(boxKey) ? entry : { ...entry, boxKey: boxKey as BoxPublicKey };
}

export function decodeMembershipExt(bytes: Uint8Array): Result<MembershipOp> {
  const r = new ByteReader(bytes);
  const kind = r.u8();
  let op: MembershipOp | null = null;
  if (kind === 0) {
    const nonce = r.take(GENESIS_NONCE_LENGTH);
    const count = r.u16();
    if (nonce !== null && count !== null) {
      const members: MemberEntry[] = [];
      for (let i = 0; i < count; i++) {
        const e = readEntry(r);
        if (e === null) return fail('RECORD_BAD_EXT', 'membership entry malformed');
        members.push(e);
      }
      op = { kind: 'genesis', nonce, members };
    }
  } else if (kind === 1) {
    const member = readEntry(r);
    if (member) op = { kind: 'set', member };
  } else if (kind === 2) {
    const publicKey = r.take(PUBLIC_KEY_LENGTH);
    if (publicKey) op = { kind: 'remove', publicKey: publicKey as SigningPublicKey };
  } else if (kind === 3) {
    const epoch = r.u32();
    if (epoch !== null) op = { kind: 'rotate', epoch };
  }
  if (op === null || r.remaining !== 0) return fail('RECORD_BAD_EXT', 'membership ext malformed');
  return ok(op);
}

interface Entry {
  readonly record: ParsedRecord;
  readonly op: MembershipOp;
}

/**
 * The current member list, folded deterministically from verified membership records, so every
 * client and the relay compute the same list whatever order records arrived in:
 * genesis first, then the other entries by (author, seq); an entry counts only if its signer is
 * an owner at that point. (Concurrent admin actions get a causal order in the sharing work.)
 */
export class MembershipView {
  readonly docId: Uint8Array;
  private readonly entries = new Map<string, Entry>();
  private genesis: Entry | undefined;
  private cache: Map<string, MemberEntry> | undefined;
  private epochCache = 0;

  constructor(docId: Uint8Array) {
    this.docId = docId;
  }

  clone(): MembershipView {
    const copy = new MembershipView(this.docId);
    copy.genesis = this.genesis;
    for (const [k, v] of this.entries) copy.entries.set(k, v);
    return copy;
  }

  get hasGenesis(): boolean {
    return this.genesis !== undefined;
  }

  get creator(): SigningPublicKey | undefined {
    return this.genesis?.record.header.author;
  }

  /** Checks the op's own shape rules; the caller has verified the signature already. */
  check(record: ParsedRecord): Result<MembershipOp> {
    if (record.header.type !== RecordType.membership) return fail('RECORD_BAD_EXT', 'not a membership record');
    const op = decodeMembershipExt(record.header.ext);
    if (!op.ok) return op;
    if (op.value.kind === 'genesis') {
      const g = op.value;
      const creatorIsOwner = g.members.some((m) => bytesEqual(m.publicKey, record.header.author) && m.role === Role.owner);
      if (record.header.seq !== 1 || !bytesEqual(deriveDocId(record.header.author, g.nonce), this.docId) || !creatorIsOwner) {
        return fail('RECORD_NOT_ADMIN', 'genesis does not match the document id');
      }
      return op;
    }
    const members = this.members();
    if (!this.genesis) return fail('ENVELOPE_NO_GENESIS', 'membership change before genesis');
    if (!isAdminRole(members.get(toHex(record.header.author))?.role)) {
      return fail('RECORD_NOT_ADMIN', 'membership change not signed by an owner');
    }
    return op;
  }

  /** Adds a verified membership record that passed `check`. Idempotent per record id. */
  add(record: ParsedRecord, op: MembershipOp): void {
    const entry = { record, op };
    if (op.kind === 'genesis') this.genesis ??= entry;
    else this.entries.set(toHex(record.id), entry);
    this.cache = undefined;
  }

  /** All members regardless of expiry. */
  members(): Map<string, MemberEntry> {
    if (this.cache) return this.cache;
    const out = new Map<string, MemberEntry>();
    if (this.genesis?.op.kind === 'genesis') for (const m of this.genesis.op.members) out.set(toHex(m.publicKey), m);
    const ordered = [...this.entries.values()].sort((a, b) => {
      const ka = toHex(a.record.header.author);
      const kb = toHex(b.record.header.author);
      return ka < kb ? -1 : ka > kb ? 1 : a.record.header.seq - b.record.header.seq;
    });
    let epoch = 0;
    for (const { record, op } of ordered) {
      if (!isAdminRole(out.get(toHex(record.header.author))?.role)) continue;
      if (op.kind === 'set') out.set(toHex(op.member.publicKey), op.member);
      else if (op.kind === 'remove') out.delete(toHex(op.publicKey));
      else if (op.kind === 'rotate') epoch = Math.max(epoch, op.epoch);
    }
    this.cache = out;
    this.epochCache = epoch;
    return out;
  }

  /** The newest epoch an owner rotated to (0 before any rotation). */
  get currentEpoch(): number {
    this.members();
    return this.epochCache;
  }

  /** The member's role now, or undefined if not a member or expired. */
  roleOf(publicKey: Uint8Array, now: number): RoleCode | undefined {
    const m = this.members().get(toHex(publicKey));
    if (!m || (m.expiresAt !== 0 && m.expiresAt <= now)) return undefined;
    return m.role;
  }
}
