/**
 * Audit log: signed, hash-chained entries (who granted, revoked, joined, exported, viewed...).
 * Pure functions, no I/O. Entries carry no PHI: `detail` is a short machine-ish note by policy,
 * except `name` and `device-label`, whose detail is the name a person chose (sealed; decision 0038).
 *
 *   body  = version(u8 = 1) ‖ kind(u8) ‖ seq(u32, ≥ 1) ‖ at(u48 ms) ‖ actor(32, Ed25519 pk) ‖ prev(32)
 *           ‖ flags(u8: bit0 subject, bit1 detail; other bits 0)
 *           ‖ [subject(32)] ‖ [detailLen(u16, ≤ 256) ‖ detail(UTF-8)]
 *   entry = body ‖ sig(64),   sig  = Ed25519("fhv/audit/v1" ‖ body)
 *   hash  = H("fhv/audit-hash/v1", body)          (never the signature bytes)
 *   prev  = hash of the previous entry; 32 zero bytes for seq 1
 *
 * A chain verifies when every entry parses, its signature is valid, seq = position + 1,
 * prev = hash of its predecessor, `at` never decreases and (optionally) the actor is authorised.
 * The chain alone cannot detect truncation or a re-signed last entry: compare the returned
 * head (length + hash) with one stored or countersigned earlier.
 *
 * Error codes are local until merged into ProtocolErrors (proposed numbers 180–185).
 */
import {
  bytesEqual,
  concatBytes,
  hashWithDomain,
  signDetached,
  utf8,
  verifyDetached,
  type Ed25519Engine,
  type Hash32,
  type Signature,
  type SigningPublicKey,
  type SigningSecretKey,
} from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import type { ProtocolErrorCode } from './errors.ts';
import { HASH_LENGTH, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './constants.ts';

export const AUDIT_VERSION = 1;
export const AUDIT_DOMAIN = { signature: 'fhv/audit/v1', hash: 'fhv/audit-hash/v1' } as const;
export const AUDIT_MAX_DETAIL_BYTES = 256;
export const AUDIT_SUBJECT_LENGTH = 32;
/** version, kind, seq, at, actor, prev, flags. */
export const AUDIT_FIXED_LENGTH = 1 + 1 + 4 + 6 + PUBLIC_KEY_LENGTH + HASH_LENGTH + 1;
export const AUDIT_MIN_ENTRY_LENGTH = AUDIT_FIXED_LENGTH + SIGNATURE_LENGTH;
export const AUDIT_MAX_ENTRY_LENGTH = AUDIT_FIXED_LENGTH + AUDIT_SUBJECT_LENGTH + 2 + AUDIT_MAX_DETAIL_BYTES + SIGNATURE_LENGTH;

/** Wire codes of the kinds. Numbers never change meaning. */
export const AuditKind = {
  grant: 1,
  revoke: 2,
  join: 3,
  'session-start': 4,
  'session-end': 5,
  export: 6,
  'clinician-view': 7,
  rotate: 8,
  /** An owner erased a profile (decision 0035): noted in the person's own vault, the profile's trail being gone. */
  erase: 9,
  /**
   * The actor's person chose this display name (detail, sealed like every audit entry; decision
   * 0038). The one kind whose detail is a person's words: a name, never health data. Any member
   * writes audit entries, so read-only members (viewers, clinicians) name themselves this way.
   */
  name: 10,
  /** The actor device's label (detail), as its person named it ("Ana's phone"); decision 0038. */
  'device-label': 11,
} as const;
export type AuditKindName = keyof typeof AuditKind;
const KIND_NAMES = new Map<number, AuditKindName>(Object.entries(AuditKind).map(([k, v]) => [v, k as AuditKindName]));

const FLAG_SUBJECT = 0x01;
const FLAG_DETAIL = 0x02;
const KNOWN_FLAGS = FLAG_SUBJECT | FLAG_DETAIL;
const MAX_AT = 2 ** 48 - 1;

export interface AuditEntry {
  readonly kind: AuditKindName;
  /** Milliseconds since the epoch (u48). */
  readonly at: number;
  /** Who did it; the entry is signed by this key. */
  readonly actor: SigningPublicKey;
  /** Whom it concerns (a member key, device id...): exactly 32 bytes. */
  readonly subject?: Uint8Array;
  /** Short note, at most 256 bytes of UTF-8. No PHI, by policy. */
  readonly detail?: string;
  /** 1-based position in the chain. */
  readonly seq: number;
  /** Hash of the previous entry's body; 32 zero bytes for seq 1. */
  readonly prev: Uint8Array;
}

/** The audit codes of ProtocolErrors (180–185). */
export type AuditErrorCode = Extract<ProtocolErrorCode, `AUDIT_${string}`>;

/** Result-compatible failure: `index` is the position in the chain (absent for a lone parse). */
export interface AuditFailure {
  readonly ok: false;
  readonly code: AuditErrorCode;
  /** Names the position, never the detail text, keys or subject. */
  readonly message: string;
  readonly index?: number;
}
export type AuditChainFailure = AuditFailure & { readonly index: number };
export type AuditResult<T> = { readonly ok: true; readonly value: T } | AuditFailure;
export type AuditChainResult = { readonly ok: true; readonly value: AuditChainHead } | AuditChainFailure;

const auditFail = (code: AuditErrorCode, message: string): AuditFailure => ({ ok: false, code, message });
const chainFail = (code: AuditErrorCode, index: number, message: string): AuditChainFailure => ({
  ok: false,
  code,
  message: `audit entry at index ${index}: ${message}`,
  index,
});

export interface ParsedAuditEntry {
  readonly entry: AuditEntry;
  /** The signed bytes (without the domain prefix and the signature). */
  readonly body: Uint8Array;
  readonly signature: Signature;
}

/** The verified state after a prefix of the chain; store it to catch truncation later. */
export interface AuditChainHead {
  /** Number of entries verified. */
  readonly length: number;
  /** Hash of the last entry (32 zero bytes for an empty chain). */
  readonly head: Hash32;
  /** `at` of the last entry (0 for an empty chain): the next entry may not be earlier. */
  readonly lastAt: number;
}

const SIG_DOMAIN = utf8(AUDIT_DOMAIN.signature);
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function checkEntry(e: AuditEntry): Uint8Array | undefined {
  if (!KIND_NAMES.has(AuditKind[e.kind])) throw new RangeError('unknown audit kind');
  if (!Number.isInteger(e.seq) || e.seq < 1 || e.seq > 0xffffffff) throw new RangeError('seq must be a u32 >= 1');
  if (!Number.isInteger(e.at) || e.at < 0 || e.at > MAX_AT) throw new RangeError('at must be a u48 (ms)');
  if (!(e.actor instanceof Uint8Array) || e.actor.length !== PUBLIC_KEY_LENGTH) throw new RangeError('actor must be 32 bytes');
  if (!(e.prev instanceof Uint8Array) || e.prev.length !== HASH_LENGTH) throw new RangeError('prev must be 32 bytes');
  if (e.subject !== undefined && (!(e.subject instanceof Uint8Array) || e.subject.length !== AUDIT_SUBJECT_LENGTH)) {
    throw new RangeError('subject must be 32 bytes');
  }
  if (e.detail === undefined) return undefined;
  const d = utf8(e.detail);
  // Lone surrogates would be replaced by U+FFFD and not round-trip.
  if (utf8Strict.decode(d) !== e.detail) throw new RangeError('detail is not well-formed Unicode');
  if (d.length > AUDIT_MAX_DETAIL_BYTES) throw new RangeError(`detail must be at most ${AUDIT_MAX_DETAIL_BYTES} bytes of UTF-8`);
  return d;
}

/** The body (signed bytes) of an entry. Throws RangeError on a field out of range (caller bug). */
export function encodeAuditEntry(entry: AuditEntry): Uint8Array {
  const detail = checkEntry(entry);
  const flags = (entry.subject ? FLAG_SUBJECT : 0) | (detail ? FLAG_DETAIL : 0);
  const w = new ByteWriter()
    .u8(AUDIT_VERSION)
    .u8(AuditKind[entry.kind])
    .u32(entry.seq)
    .u48(entry.at)
    .bytes(entry.actor)
    .bytes(entry.prev)
    .u8(flags);
  if (entry.subject) w.bytes(entry.subject);
  if (detail) w.u16(detail.length).bytes(detail);
  return w.finish();
}

/** body ‖ Ed25519("fhv/audit/v1" ‖ body). The secret key must belong to `entry.actor`. */
export async function signAuditEntry(o: {
  entry: AuditEntry;
  secretKey: SigningSecretKey;
  engine: Ed25519Engine;
}): Promise<Uint8Array> {
  const body = encodeAuditEntry(o.entry);
  if (o.secretKey.length !== 64 || !bytesEqual(o.secretKey.subarray(32, 64), o.entry.actor)) {
    throw new RangeError('secretKey does not belong to the entry actor');
  }
  const sig = await signDetached(o.engine, concatBytes(SIG_DOMAIN, body), o.secretKey);
  return concatBytes(body, sig);
}

/** Parses one entry (no signature check). Canonical: one entry has exactly one encoding. */
export function parseAuditEntry(bytes: Uint8Array): AuditResult<ParsedAuditEntry> {
  if (bytes.length < AUDIT_MIN_ENTRY_LENGTH) return auditFail('AUDIT_MALFORMED', 'audit entry is truncated');
  if (bytes.length > AUDIT_MAX_ENTRY_LENGTH) return auditFail('AUDIT_MALFORMED', 'audit entry is too long');
  const bodyLength = bytes.length - SIGNATURE_LENGTH;
  const r = new ByteReader(bytes.subarray(0, bodyLength));
  const version = r.u8()!;
  if (version !== AUDIT_VERSION) return auditFail('AUDIT_MALFORMED', 'unknown audit entry version');
  const kind = KIND_NAMES.get(r.u8()!);
  if (!kind) return auditFail('AUDIT_MALFORMED', 'unknown audit entry kind');
  const seq = r.u32()!;
  if (seq < 1) return auditFail('AUDIT_MALFORMED', 'audit entry seq must be at least 1');
  const at = r.u48()!;
  const actor = r.take(PUBLIC_KEY_LENGTH)!.slice() as SigningPublicKey;
  const prev = r.take(HASH_LENGTH)!.slice();
  const flags = r.u8()!;
  if ((flags & ~KNOWN_FLAGS) !== 0) return auditFail('AUDIT_MALFORMED', 'audit entry has unknown flags');
  let subject: Uint8Array | undefined;
  if (flags & FLAG_SUBJECT) {
    const s = r.take(AUDIT_SUBJECT_LENGTH);
    if (!s) return auditFail('AUDIT_MALFORMED', 'audit entry is truncated');
    subject = s.slice();
  }
  let detail: string | undefined;
  if (flags & FLAG_DETAIL) {
    const n = r.u16();
    if (n === null) return auditFail('AUDIT_MALFORMED', 'audit entry is truncated');
    if (n > AUDIT_MAX_DETAIL_BYTES) return auditFail('AUDIT_MALFORMED', 'audit entry detail is too long');
    const d = r.take(n);
    if (!d) return auditFail('AUDIT_MALFORMED', 'audit entry is truncated');
    try {
      detail = utf8Strict.decode(d);
    } catch {
      return auditFail('AUDIT_MALFORMED', 'audit entry detail is not valid UTF-8');
    }
  }
  if (r.remaining !== 0) return auditFail('AUDIT_MALFORMED', 'audit entry has trailing bytes');
  const entry: AuditEntry = {
    kind,
    at,
    actor,
    seq,
    prev,
    ...(subject ? { subject } : {}),
    ...(detail !== undefined ? { detail } : {}),
  };
  return {
    ok: true,
    value: {
      entry,
      body: bytes.slice(0, bodyLength),
      signature: bytes.slice(bodyLength) as Signature,
    },
  };
}

/** H("fhv/audit-hash/v1", body) of an encoded entry (body ‖ sig): what the next entry's prev names. */
export function auditEntryHash(bytes: Uint8Array): Hash32 {
  if (bytes.length < AUDIT_MIN_ENTRY_LENGTH) throw new RangeError('not an audit entry');
  return hashWithDomain(AUDIT_DOMAIN.hash, bytes.subarray(0, bytes.length - SIGNATURE_LENGTH));
}

export interface VerifyAuditChainOptions {
  readonly engine: Ed25519Engine;
  /** Policy hook: is this key allowed to write this entry (e.g. a current member)? */
  readonly isAuthorizedActor?: (actor: SigningPublicKey, entry: AuditEntry) => boolean;
  /**
   * A head returned by an earlier successful verification: `entries` then continue that chain
   * (the first must have seq = from.length + 1 and prev = from.head), and failure indexes are
   * absolute positions. Lets a device verify only what was appended since the stored head.
   */
  readonly from?: AuditChainHead;
}

const emptyHead = (): AuditChainHead => ({ length: 0, head: new Uint8Array(HASH_LENGTH) as Hash32, lastAt: 0 });

/**
 * Verifies a chain (or, with `from`, its continuation) entry by entry and stops at the first
 * failure. Checks per entry, in order: parses, signature, seq, prev, time, actor.
 */
export async function verifyAuditChain(
  entries: readonly Uint8Array[],
  o: VerifyAuditChainOptions,
): Promise<AuditChainResult> {
  let state = o.from ?? emptyHead();
  if (!Number.isInteger(state.length) || state.length < 0 || state.head.length !== HASH_LENGTH) {
    throw new RangeError('from must be a head returned by verifyAuditChain');
  }
  for (let k = 0; k < entries.length; k++) {
    const index = state.length;
    const parsed = parseAuditEntry(entries[k]!);
    if (!parsed.ok) return chainFail('AUDIT_MALFORMED', index, parsed.message);
    const { entry, body, signature } = parsed.value;
    const valid = await verifyDetached(o.engine, concatBytes(SIG_DOMAIN, body), signature, entry.actor);
    if (!valid) return chainFail('AUDIT_BAD_SIGNATURE', index, 'signature does not verify');
    if (entry.seq !== index + 1) {
      return chainFail('AUDIT_OUT_OF_ORDER', index, `seq ${entry.seq} where ${index + 1} was expected (entry reordered, removed or inserted)`);
    }
    if (!bytesEqual(entry.prev, state.head)) {
      return chainFail('AUDIT_BROKEN_CHAIN', index, 'prev does not match the hash of the previous entry');
    }
    if (index > 0 && entry.at < state.lastAt) {
      return chainFail('AUDIT_TIME_REVERSED', index, 'time is earlier than the previous entry');
    }
    if (o.isAuthorizedActor && !o.isAuthorizedActor(entry.actor, entry)) {
      return chainFail('AUDIT_UNAUTHORIZED', index, 'actor is not authorised');
    }
    state = { length: index + 1, head: hashWithDomain(AUDIT_DOMAIN.hash, body), lastAt: entry.at };
  }
  return { ok: true, value: state };
}
