/**
 * The audit trail of a profile: each device keeps its own signed, hash-chained list of audit
 * entries (grants, revocations, joins, sessions, exports, clinician views, rotations), sealed
 * into the envelope as audit records. Reading verifies every chain; an edited, removed or
 * reordered entry fails its chain, and the failure is reported with its position.
 */
import { bytesEqual, fromHex, toHex, type Ed25519Engine, type SigningKeyPair } from '../crypto/index.ts';
import {
  auditEntryHash,
  parseAuditEntry,
  signAuditEntry,
  verifyAuditChain,
  type AuditErrorCode,
  type AuditKindName,
} from '../protocol/index.ts';
import type { ProfileSync } from '../sync/profile-sync.ts';

export interface AuditEvent {
  readonly kind: AuditKindName;
  readonly at: number;
  /** Device key (hex) that did it. */
  readonly actor: string;
  /** Key (hex) it concerns, if any. */
  readonly subject?: string;
  readonly detail?: string;
}

export interface AuditChainReport {
  readonly actor: string;
  readonly length: number;
  readonly ok: boolean;
  readonly code?: AuditErrorCode;
  readonly index?: number;
}

export interface AuditTrail {
  /** Events from chains that verified, oldest first. */
  readonly events: AuditEvent[];
  readonly chains: AuditChainReport[];
}

/** Appends an event to this device's audit chain in the profile. */
export async function recordAudit(
  sync: ProfileSync,
  o: { signer: SigningKeyPair; engine: Ed25519Engine; kind: AuditKindName; subject?: Uint8Array; detail?: string; now?: number },
): Promise<void> {
  const mine = sync.auditEntries().get(toHex(o.signer.publicKey)) ?? [];
  const last = mine.at(-1);
  const lastAt = last ? (parseAuditEntry(last) as { ok: true; value: { entry: { at: number } } }).value.entry.at : 0;
  const entry = await signAuditEntry({
    entry: {
      kind: o.kind,
      at: Math.max(o.now ?? Date.now(), lastAt),
      actor: o.signer.publicKey,
      subject: o.subject,
      detail: o.detail,
      seq: mine.length + 1,
      prev: last ? auditEntryHash(last) : new Uint8Array(32),
    },
    secretKey: o.signer.secretKey,
    engine: o.engine,
  });
  await sync.appendAudit(entry);
}

/** Verifies every device's chain and returns the events of those that hold. */
export async function readAuditTrail(sync: ProfileSync, engine: Ed25519Engine): Promise<AuditTrail> {
  const events: AuditEvent[] = [];
  const chains: AuditChainReport[] = [];
  for (const [actor, entries] of sync.auditEntries()) {
    const author = fromHex(actor);
    const verdict = await verifyAuditChain(entries, { engine, isAuthorizedActor: (pk) => bytesEqual(pk, author) });
    if (!verdict.ok) {
      chains.push({ actor, length: entries.length, ok: false, code: verdict.code, index: verdict.index });
      continue;
    }
    chains.push({ actor, length: entries.length, ok: true });
    for (const bytes of entries) {
      const parsed = parseAuditEntry(bytes);
      if (!parsed.ok) continue;
      const e = parsed.value.entry;
      events.push({ kind: e.kind, at: e.at, actor, subject: e.subject && toHex(e.subject), detail: e.detail });
    }
  }
  return { events: events.sort((a, b) => a.at - b.at), chains };
}
