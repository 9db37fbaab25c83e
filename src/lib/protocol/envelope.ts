/**
 * The envelope write policy, shared by the relay and every client (docs/decisions/0004), so an
 * honest client never produces an update the relay refuses and a client can hold the relay to
 * the same rules.
 *
 * Envelope layout: one root Y.Map named `r`; key = base64url(record id), value = record bytes.
 * The rules are about the *effect* of integrating an update (docs/protocol.md §3, the
 * envelope invariants), decided from the update's structs and the index alone:
 *
 *   I1 append-only: every live key stays live, except records deleted under a snapshot that
 *      covers them (integrated already or in the same update);
 *   I2 fresh keys only: a new item is a root-map entry (no origin, no right origin) under a key
 *      no item ever held, once per update. Yjs resolves a second item under a used key by
 *      deleting one of the two (map conflict resolution): that is an implicit delete in no
 *      delete set, so it is refused before it can happen;
 *   I3 nothing pending: structs continue their client's clock exactly and deletes name only
 *      integrated items, so no struct or delete waits in Yjs for something that may never
 *      arrive (and takes effect later, unchecked);
 *   I4 owned clocks: an envelope clientID belongs to the person whose connection first wrote
 *      on it (kept by the relay across restarts); only that person's connection adds structs
 *      on it, and only records signed by that person's keys. Otherwise a member could occupy
 *      another's next clock and Yjs would drop that person's next record as already known;
 *   I5 valid records: a new value is a well-formed record of an allowed type whose id is its
 *      key, written by a member allowed to write that type now.
 *
 * Everything else (other roots, nested types, other content kinds, GC and skip structs, a
 * client twice in one update) is refused with a typed code. This module only reads updates;
 * it never applies them.
 */
import * as Y from 'yjs';
import { fail, ok, type Result } from './errors.ts';
import { deleteSetHas, type EnvelopeIndex } from './envelope-index.ts';
import { compareForMembership } from './membership.ts';
import { verifyRecord, type ParsedRecord } from './record.ts';
import { authorizeRecord } from './envelope-authorization.ts';
import { checkClockOwnership } from './clock-ownership.ts';
import { DEFAULT_ENVELOPE_LIMITS, type AcceptedUpdate, type EnvelopeCheckOptions } from './envelope-check-options.ts';
import { checkDeletes } from './envelope-deletes.ts';
import { EnvelopeIndexOverlay } from './envelope-overlay.ts';
import { newItemsOf, type NewItem } from './envelope-structs.ts';

export * from './envelope-index.ts';
// The policy's pieces, each in its own module, stay importable from here (the policy's door).
export { DEFAULT_ENVELOPE_LIMITS, type AcceptedUpdate, type EnvelopeCheckOptions, type EnvelopeLimits } from './envelope-check-options.ts';
export { authorizeRecord, snapshotCovers } from './envelope-authorization.ts';
export { startVerifyingUpdate } from './early-verification.ts';
export { EnvelopeIndexOverlay } from './envelope-overlay.ts';

/**
 * The gate: accepts a (v1) envelope update only if integrating it keeps every invariant above.
 * All-or-nothing; on success, `commit()` brings the index to the doc's state after the update.
 */
export async function checkEnvelopeUpdate(update: Uint8Array, index: EnvelopeIndex, o: EnvelopeCheckOptions): Promise<Result<AcceptedUpdate>> {
  const limits = o.limits ?? DEFAULT_ENVELOPE_LIMITS;
  if (update.length > limits.maxUpdateBytes) return fail('ENVELOPE_TOO_LARGE', 'envelope update too large');
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return fail('ENVELOPE_BAD_UPDATE', 'envelope update does not decode');
  }
  const shape = newItemsOf(decoded, o, limits);
  if (!shape.ok) return shape;
  const { items, stateAfter } = shape.value;
  for (const it of items) if (index.keyUsed(it.key)) return fail('ENVELOPE_KEY_EXISTS', 'key already used in the envelope');

  let records = items.filter((it): it is NewItem & { record: ParsedRecord } => it.record !== undefined);
  // Membership first, in causal order (genesis, then by clock), then the rest by seq.
  records.sort((a, b) => compareForMembership(a.record, b.record));
  const staged = new EnvelopeIndexOverlay(index);
  // Signatures are independent of order: check them all at once (WebCrypto runs them in parallel).
  const signatures = await Promise.all(records.map((r) => verifyRecord(r.record, o.engine)));
  if (o.scope === 'replica') {
    records = records.filter((_, i) => signatures[i]!.ok);
    for (const r of records) staged.add(r.record, r.id, undefined);
  } else {
    for (const [i, r] of records.entries()) {
      const verdict = await authorizeRecord(r.record, staged, { engine: o.engine, now: o.now, verified: signatures[i] });
      if (!verdict.ok) return verdict;
      staged.add(r.record, r.id, verdict.value);
    }
  }
  const signed = new Set(records.map((r) => r.key));
  let bound: Array<[number, string]> = [];
  if (o.scope !== 'replica') {
    // The relay always knows the sender; a relay-scope check without one cannot decide I4.
    if (o.sender === undefined) return fail('ENVELOPE_CLIENT_NOT_OWNED', 'no sender to check clientID ownership against');
    const owned = checkClockOwnership(items, index, staged.membership, o.sender, o);
    if (!owned.ok) return owned;
    bound = owned.value;
  }

  const deletes = checkDeletes(decoded.ds, index, staged, (client) => stateAfter.get(client) ?? o.stateOf(client));
  if (!deletes.ok) return deletes;
  const deleted = deletes.value;
  return ok({
    added: staged.added.map((a) => a.record),
    deleted,
    bound,
    commit() {
      for (const [client, person] of bound) index.bindClient(client, person);
      for (const it of items) if (!signed.has(it.key)) index.useKey(it.key);
      for (const a of staged.added) index.add(a.record, a.item, a.op);
      for (const key of deleted) index.remove(key);
    },
  });
}

/** Re-exported for callers that test delete sets of decoded updates. */
export const inDeleteSet = deleteSetHas;
