/**
 * Backups (docs/decisions/0033-backup-archive.md): what an archive carries and how its documents
 * come back. The archive holds each document's envelope exactly as this device stores it (signed,
 * sealed records, including ones not yet sent to the relay), so every signature stays checkable;
 * a restore takes nothing on trust: each envelope passes the relay gate's envelope check and the
 * profile's normal receive pipeline (signatures, chains, membership, decryption) in memory, and
 * only once every document passed is anything written to the device's store.
 */
import * as Y from 'yjs';
import { defaultEd25519Engine, fromBase64Url, toBase64Url, type BoxKeyPair, type Ed25519Engine, type SigningKeyPair } from '../crypto/index.ts';
import { checkEnvelopeUpdate, rebuildEnvelopeIndex } from '../protocol/envelope.ts';
import { ENVELOPE_MAP } from '../protocol/envelope-index.ts';
import { memoryPersistence } from '../storage/memory.ts';
import type { Persistence } from '../storage/types.ts';
import { engineOf } from './engine.ts';
import { VaultError } from './errors.ts';
import { Profile, type ProfileAccess } from './profile.ts';

export const BACKUP_PAYLOAD_FORMAT = 'fhv-backup';
export const BACKUP_PAYLOAD_VERSION = 1;

/** One document in a backup: its relay name (base64url doc id), its envelope, and what the maker kept beside it. */
export interface BackupDoc {
  readonly name: string;
  /** Y.encodeStateAsUpdate of the envelope doc, base64url: records exactly as stored. */
  readonly envelope: string;
  /** Client-specific extras (the CLI's alias, stored access and relay). Validated by that client. */
  readonly meta?: Record<string, unknown>;
}

export interface BackupPayload {
  readonly format: typeof BACKUP_PAYLOAD_FORMAT;
  readonly v: typeof BACKUP_PAYLOAD_VERSION;
  /** Which client made it: a CLI keyring ('cli') or an app session ('app'). */
  readonly kind: 'cli' | 'app';
  readonly createdAt: number;
  /** Client-specific identity extras (the CLI's box secret key; the app needs none). */
  readonly identity: Record<string, unknown>;
  readonly docs: readonly BackupDoc[];
}

export type BackupPhase = 'collect' | 'seal' | 'open' | 'verify' | 'store';
export type BackupProgress = (p: { phase: BackupPhase; done: number; total: number }) => void;

/** A document's envelope as this device holds it (records not yet synced included). */
export function envelopeState(profile: Profile): Uint8Array {
  return Y.encodeStateAsUpdate(engineOf(profile).envelopeDoc);
}

/** Records in an envelope state (its live map entries), for summaries. */
export function envelopeRecordCount(state: Uint8Array): number {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const n = doc.getMap(ENVELOPE_MAP).size;
  doc.destroy();
  return n;
}

export function encodePayload(p: BackupPayload): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(p));
}

const damaged = (what: string) => new VaultError('BACKUP_DAMAGED', `the backup's content is damaged (${what})`);

/** Parses the opened body; anything off-shape is BACKUP_DAMAGED (never echoing content). */
export function decodePayload(body: Uint8Array): BackupPayload {
  let p: Partial<BackupPayload> | null;
  try {
    p = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) as Partial<BackupPayload> | null;
  } catch {
    throw damaged('not JSON');
  }
  if (typeof p !== 'object' || p === null || p.format !== BACKUP_PAYLOAD_FORMAT) throw damaged('format');
  if (p.v !== BACKUP_PAYLOAD_VERSION) throw new VaultError('BACKUP_VERSION', 'this backup was made by another version of the app');
  if ((p.kind !== 'cli' && p.kind !== 'app') || typeof p.createdAt !== 'number' || typeof p.identity !== 'object' || p.identity === null || !Array.isArray(p.docs)) throw damaged('fields');
  const names = new Set<string>();
  for (const d of p.docs as unknown[]) {
    const doc = d as Partial<BackupDoc> | null;
    if (typeof doc !== 'object' || doc === null || typeof doc.name !== 'string' || typeof doc.envelope !== 'string') throw damaged('document');
    if (doc.meta !== undefined && (typeof doc.meta !== 'object' || doc.meta === null)) throw damaged('document');
    if (names.has(doc.name)) throw damaged('duplicate document');
    names.add(doc.name);
  }
  return p as BackupPayload;
}

export function envelopeBytes(doc: BackupDoc): Uint8Array {
  try {
    return fromBase64Url(doc.envelope);
  } catch {
    throw damaged('envelope');
  }
}

export interface VerifyOptions {
  readonly access: ProfileAccess;
  readonly signer: SigningKeyPair;
  readonly box?: BoxKeyPair;
  readonly engine?: Ed25519Engine;
  readonly now?: () => number;
}

export interface VerifiedDoc {
  readonly name: string;
  readonly update: Uint8Array;
  /** Records the envelope holds (none refused). */
  readonly records: number;
  /** Of those, records the pipeline holds back (missing predecessor or key), as it would on receipt. */
  readonly waiting: number;
  /** The document opened from these records, in memory only; the caller closes it. */
  readonly profile: Profile;
}

const rejected = (why: string) => new VaultError('BACKUP_REJECTED', `a document in the backup failed verification (${why}); nothing was restored`);

/**
 * Runs one document's envelope through what a received update passes: the relay gate's envelope
 * check (replica scope, as RelayConnection applies it), then the profile's receive pipeline. The
 * profile lives in memory only. Any refusal or reported problem, or no genesis, is BACKUP_REJECTED.
 */
export async function verifyBackupDoc(name: string, update: Uint8Array, o: VerifyOptions): Promise<VerifiedDoc> {
  if (toBase64Url(o.access.docId) !== name) throw rejected('document id');
  const engine = o.engine ?? (await defaultEd25519Engine());
  const now = o.now ?? Date.now;
  const profile = await Profile.open({ access: o.access, signer: o.signer, box: o.box, engine, now, persistence: memoryPersistence(), autoConnect: false, expirySweep: false });
  try {
    const envelope = engineOf(profile).envelopeDoc;
    let verdict;
    try {
      verdict = await checkEnvelopeUpdate(update, rebuildEnvelopeIndex(o.access.docId, undefined).index, {
        engine,
        now: now(),
        scope: 'replica',
        stateOf: (client) => Y.getState(envelope.store, client),
      });
    } catch {
      throw rejected('not an envelope');
    }
    if (!verdict.ok) throw rejected(verdict.code);
    verdict.value.commit();
    Y.applyUpdate(envelope, update, BACKUP_ORIGIN);
    const sync = engineOf(profile).sync;
    await sync.drain();
    const state = sync.state.value;
    if (!sync.index.membership.hasGenesis) throw rejected('no genesis');
    if (state.problems.length > 0) throw rejected(state.problems[0]!.code);
    // Records waiting for a predecessor or a key stay waiting, as they would on receipt: a device
    // may hold such records legitimately (a partial catch-up, an epoch it was never given).
    return { name, update, records: envelope.getMap(ENVELOPE_MAP).size, waiting: state.gaps, profile };
  } catch (e) {
    await profile.close();
    throw e;
  }
}

/** Transaction origin of restored envelopes (remote to the profile: it verifies them). */
export const BACKUP_ORIGIN = Symbol('backup-restore');

/** Writes an already verified envelope into the device's store. */
export async function storeEnvelope(persistence: Persistence, name: string, update: Uint8Array): Promise<void> {
  const doc = new Y.Doc({ guid: `envelope:${name}` });
  const detach = await persistence(doc, name);
  try {
    Y.applyUpdate(doc, update, BACKUP_ORIGIN);
  } finally {
    detach();
    doc.destroy();
  }
}
