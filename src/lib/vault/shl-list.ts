/**
 * The profile's list of SMART Health Links, folded so that only owners' word counts (decision
 * 0031, amended 2026-12-02; threat model claim 70).
 *
 * The list's facts live in a system map of the plain doc, which editors may write, and which a
 * snapshot (any writer may compact) re-vouches for as a whole, so who wrote a map value cannot be
 * proven for ever. What decides a link's existence, expiry and revocation is therefore the
 * **owners' audit records**, which are signed by their author, never compacted, and whose author
 * the fold checks against this device's membership:
 *  - `export` with subject = manifest id (32 bytes) and detail `shl exp=<ms>[ p]`: an owner
 *    (now, or one removed since) made the link, with that expiry (0 = none) and passcode flag;
 *  - `export` with subject = manifest id and detail `shl revoked`: an owner revoked it.
 * The map gives only the label and the times shown (cosmetic). Whatever an editor or anyone else writes into the map
 * or the audit (their own audit records name them as the actor, and they are not owners) neither
 * adds a link, nor revokes one, nor moves its expiry. The relay stays the authority on whether a
 * link still opens (a link whose passcode attempts ran out is dead there but listed active here).
 */
import { fromHex, toBase64Url, toHex } from '../crypto/index.ts';
import { parseAuditEntry, RecordType, Role } from '../protocol/index.ts';
import { HEALTH_LINKS_MAP, type HealthLinkRecord } from '../../../crdt-schemas/system.ts';
import { engineOf } from './engine.ts';
import type { Profile } from './profile.ts';

export type HealthLinkStatus = 'active' | 'expired' | 'revoked';

/** A link in the profile's list, as the share page shows it. */
export interface HealthLinkEntry extends HealthLinkRecord {
  readonly id: string;
  readonly status: HealthLinkStatus;
}

/** The audit details of a link made and revoked (AuditList shows them as words). */
export const shlMadeDetail = (expiresAt: number, passcode: boolean): string => `shl exp=${expiresAt}${passcode ? ' p' : ''}`;
export const SHL_REVOKED_DETAIL = 'shl revoked';
const MADE = /^shl exp=(\d{1,16})( p)?$/;

interface OwnerFacts {
  createdAt: number;
  expiresAt: number;
  passcode: boolean;
  revokedAt: number | null;
}

/** What owners' audit entries say about each link, by manifest id. */
function ownerFacts(p: Profile, now: number): Map<string, OwnerFacts> {
  const { sync } = engineOf(p);
  const membership = sync.index.membership;
  const facts = new Map<string, OwnerFacts>();
  const revoked = new Map<string, number>();
  for (const [author, entries] of sync.auditEntries()) {
    const key = fromHex(author);
    if (membership.roleOf(key, now) !== Role.owner && membership.formerRole(key) !== Role.owner) continue;
    for (const bytes of entries) {
      const parsed = parseAuditEntry(bytes);
      if (!parsed.ok) continue;
      const e = parsed.value.entry;
      // The entry speaks for its actor, which must be the record's (owner) author.
      if (e.kind !== 'export' || !e.subject || toHex(e.actor) !== author || e.detail === undefined) continue;
      const id = toBase64Url(e.subject);
      const made = MADE.exec(e.detail);
      if (made && !facts.has(id)) facts.set(id, { createdAt: e.at, expiresAt: Number(made[1]), passcode: made[2] !== undefined, revokedAt: null });
      if (e.detail === SHL_REVOKED_DETAIL) revoked.set(id, Math.min(revoked.get(id) ?? Infinity, e.at));
    }
  }
  for (const [id, at] of revoked) {
    const f = facts.get(id);
    if (f) f.revokedAt = at;
  }
  return facts;
}

/** The links this profile's owners made, newest first, with their status at `now`. */
export function healthLinks(p: Profile, now: number = Date.now()): HealthLinkEntry[] {
  const map = p.systemMap(HEALTH_LINKS_MAP);
  const out: HealthLinkEntry[] = [];
  for (const [id, f] of ownerFacts(p, now)) {
    const status = f.revokedAt !== null ? 'revoked' : f.expiresAt !== 0 && f.expiresAt <= now ? 'expired' : 'active';
    // Times as the map shows them when it agrees (the owner's own clock at the action); else the audit's.
    const listed = map.get(id);
    const createdAt = listed?.createdAt ?? f.createdAt;
    const revokedAt = f.revokedAt === null ? null : (listed?.revokedAt ?? f.revokedAt);
    out.push({ label: listed?.label ?? '', createdAt, expiresAt: f.expiresAt, passcode: f.passcode, revokedAt, id, status });
  }
  return out.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
}

/**
 * Calls `fn` when the list may have changed: a profile change (the map, the membership) or an
 * audit record applied (a link's owner-signed facts arrive in their own record, after the map's).
 */
export function watchHealthLinks(p: Profile, fn: () => void): () => void {
  const stops = [p.watch(fn), engineOf(p).sync.applied.subscribe((e) => e?.type === RecordType.audit && fn())];
  return () => stops.forEach((stop) => stop());
}
