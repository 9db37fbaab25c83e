/**
 * Invariant I4 (owned clocks), the relay scope's check of who may write on which envelope
 * clientID. Separate from the gate (envelope.ts) because it is the one rule about the sending
 * connection rather than the update's effect; a replica's gate skips it.
 */
import { toHex } from '../crypto/index.ts';
import { fail, ok, type Result } from './errors.ts';
import { personOf, type EnvelopeIndex } from './envelope-index.ts';
import type { EnvelopeCheckOptions } from './envelope-check-options.ts';
import type { NewItem } from './envelope-structs.ts';
import type { MembershipView } from './membership.ts';

/**
 * I4: every new struct on an envelope clientID comes from the person that clientID belongs to,
 * and every record on it is signed by that person's keys. A clientID belongs to the person whose
 * connection first wrote on it; one the doc has seen but whose owner is unknown (data stored
 * before bindings were kept) is frozen. Honest devices only ever send new structs of their own
 * clientIDs: whatever else they have, they got from the relay, which has it.
 */
export function checkClockOwnership(items: readonly NewItem[], index: EnvelopeIndex, membership: MembershipView, senderKey: string, o: EnvelopeCheckOptions): Result<Array<[number, string]>> {
  const sender = personOf(membership, senderKey);
  const bound: Array<[number, string]> = [];
  const owners = new Map<number, string>();
  for (const it of items) {
    let owner = owners.get(it.id.client) ?? index.ownerOfClient(it.id.client);
    if (owner === undefined) {
      if (o.stateOf(it.id.client) > 0) return fail('ENVELOPE_CLIENT_NOT_OWNED', 'clientID of an unknown owner');
      owner = sender;
      bound.push([it.id.client, owner]);
    }
    owners.set(it.id.client, owner);
    if (owner !== sender) return fail('ENVELOPE_CLIENT_NOT_OWNED', "struct on another person's clientID");
    if (it.record && personOf(membership, toHex(it.record.header.author)) !== owner) {
      return fail('ENVELOPE_CLIENT_NOT_OWNED', "record signed by someone other than its clientID's owner");
    }
  }
  return ok(bound);
}
