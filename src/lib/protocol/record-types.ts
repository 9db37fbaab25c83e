/**
 * The one table of record types: what each is, where it may live, what a snapshot may do to
 * it, what a replica does with it and who may write it. The snapshot rules and the write policy
 * (envelope-authorization.ts `snapshotCovers`, `authorizeRecord`), the record codec (sealed
 * bodies) and the sync engine (what to apply, what to keep) all read this table and nothing else.
 *
 * A type that is not in the table (written by a newer app) is kept: never compactable, never
 * applied, its author's chain continues through it (sync/inbox.ts).
 */
import { RecordType, type RecordTypeCode } from './constants.ts';

/**
 * What a replica does with a record of this type:
 *  - `plain`: applies it to the plain doc; a snapshot carries its effect, so once covered it
 *    may be deleted and a replica that meets it covered skips it;
 *  - `membership`, `keys`, `audit`: folds it into state that lives outside the plain doc (roles,
 *    the epoch key ring, the audit trail); a snapshot does not carry that, so it is kept for
 *    ever and every replica processes it even behind a snapshot;
 *  - `erase`: the profile is deleted everywhere (protocol/erase.ts): the relay stores a tombstone
 *    and drops the document, devices drop their copies; kept for ever like membership;
 *  - `none`: not stored in the envelope (presence travels in awareness).
 */
export type RecordEffect = 'plain' | 'membership' | 'keys' | 'audit' | 'erase' | 'none';

/** Who may write it: `writer` (owner, editor), `owner`, `member` (anyone but an invite key), or the membership rules. */
export type RecordWriters = 'writer' | 'owner' | 'member' | 'membership-rules';

export interface RecordTypeRule {
  readonly name: string;
  /** Body encrypted under the epoch key (else cleartext, signed, in `ext`). */
  readonly sealed: boolean;
  /** May live in the envelope map (the relay's allow-list, format v1). */
  readonly inEnvelope: boolean;
  /** A snapshot covering it may delete it; otherwise it stays for ever. */
  readonly compactable: boolean;
  readonly effect: RecordEffect;
  readonly writers: RecordWriters;
}

const rule = (r: RecordTypeRule): RecordTypeRule => Object.freeze(r);

export const RECORD_TYPE_RULES: ReadonlyMap<number, RecordTypeRule> = new Map<number, RecordTypeRule>([
  [RecordType.update, rule({ name: 'update', sealed: true, inEnvelope: true, compactable: true, effect: 'plain', writers: 'writer' })],
  [RecordType.snapshot, rule({ name: 'snapshot', sealed: true, inEnvelope: true, compactable: true, effect: 'plain', writers: 'writer' })],
  [RecordType.membership, rule({ name: 'membership', sealed: false, inEnvelope: true, compactable: false, effect: 'membership', writers: 'membership-rules' })],
  [RecordType.lockbox, rule({ name: 'lockbox', sealed: false, inEnvelope: true, compactable: false, effect: 'keys', writers: 'owner' })],
  [RecordType.audit, rule({ name: 'audit', sealed: true, inEnvelope: true, compactable: false, effect: 'audit', writers: 'member' })],
  [RecordType.erase, rule({ name: 'erase', sealed: false, inEnvelope: true, compactable: false, effect: 'erase', writers: 'owner' })],
  [RecordType.presence, rule({ name: 'presence', sealed: true, inEnvelope: false, compactable: false, effect: 'none', writers: 'member' })],
]);

export const recordTypeRule = (type: number): RecordTypeRule | undefined => RECORD_TYPE_RULES.get(type);

/** Types whose body is encrypted with the epoch key. */
export const SEALED_TYPES: ReadonlySet<number> = new Set([...RECORD_TYPE_RULES].filter(([, r]) => r.sealed).map(([t]) => t));

/** Envelope format v1: the types an envelope may hold (the relay refuses any other). */
export const ENVELOPE_RECORD_TYPES: ReadonlyMap<RecordTypeCode, RecordTypeRule> = new Map(
  [...RECORD_TYPE_RULES].filter(([, r]) => r.inEnvelope) as Array<[RecordTypeCode, RecordTypeRule]>,
);

/** May a covering snapshot delete a record of this type? Unknown types: never. */
export const isCompactableType = (type: number): boolean => RECORD_TYPE_RULES.get(type)?.compactable === true;

/** Does a snapshot carry this type's effect (so a covered one is skipped)? Unknown types: no. */
export const effectInSnapshot = (type: number): boolean => RECORD_TYPE_RULES.get(type)?.effect === 'plain';
