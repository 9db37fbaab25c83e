/**
 * Who may read an erased document's tombstone (decision 0035, amended 2026-12-02). The relay
 * deletes the members with the document, so the tombstone keeps, instead of their keys, one
 * domain-separated hash per signing key that could act for a member at erasure time (member
 * identities, whatever their expiry, and their certified, unrevoked devices):
 *
 *   digest = H("fhv/erased-member/v1", docId ‖ signing key)
 *
 * The docId in the hash makes one key's digests differ from one tombstone to the next, so the
 * table links nobody across profiles by itself; anyone holding a candidate key can still test it
 * (a key is public), which tells them only that its owner was a member of this erased profile.
 * Removed members, revoked devices, invites and strangers get no digest: `GET /erased/<doc>`
 * refuses them (ERASE_NOT_A_MEMBER).
 */
import { bytesEqual, hashWithDomain, toHex, type Hash32 } from '../src/lib/crypto/index.ts';
import { decodeEraseExt, type EnvelopeIndex, type ParsedRecord } from '../src/lib/protocol/index.ts';
import type { Tombstone } from './storage/relay-store.ts';

const DOMAIN = 'fhv/erased-member/v1';
export const MEMBER_DIGEST_BYTES = 32;

export function memberDigest(docId: Uint8Array, signingKey: Uint8Array): Hash32 {
  return hashWithDomain(DOMAIN, docId, signingKey);
}

/** Every signing key that acts for a member of `index` now: identities and their live devices. */
export function memberSigningKeys(index: Pick<EnvelopeIndex, 'membership'>): Uint8Array[] {
  const state = index.membership.state();
  const keys: Uint8Array[] = [];
  for (const m of state.members.values()) keys.push(m.publicKey);
  for (const [hex, d] of state.devices) {
    if (!state.revokedDevices.has(hex) && state.members.has(d.identity)) keys.push(d.cert.device);
  }
  // One digest per key, whatever the fold's maps hold twice.
  return [...new Map(keys.map((k) => [toHex(k), k])).values()];
}

/** The concatenated digests (32 bytes each, sorted so the bytes say nothing about join order). */
export function memberDigests(docId: Uint8Array, index: Pick<EnvelopeIndex, 'membership'>): Uint8Array {
  const digests = memberSigningKeys(index)
    .map((k) => memberDigest(docId, k))
    .sort((a, b) => Buffer.compare(a, b));
  const out = new Uint8Array(digests.length * MEMBER_DIGEST_BYTES);
  digests.forEach((d, i) => out.set(d, i * MEMBER_DIGEST_BYTES));
  return out;
}

/** Whether `signingKey` was among the tombstone's members. */
export function wasMember(docId: Uint8Array, tombstone: Tombstone, signingKey: Uint8Array): boolean {
  const want = memberDigest(docId, signingKey);
  const all = tombstone.members;
  for (let at = 0; at + MEMBER_DIGEST_BYTES <= all.length; at += MEMBER_DIGEST_BYTES) {
    if (bytesEqual(all.subarray(at, at + MEMBER_DIGEST_BYTES), want)) return true;
  }
  return false;
}

/** The tombstone for an accepted erase record, from the index as it stands when the order is taken. */
export function tombstoneOf(index: EnvelopeIndex, record: ParsedRecord): Tombstone {
  const order = decodeEraseExt(record.header.ext);
  return { erasedAt: order.ok ? order.value.erasedAt : 0, record: record.bytes, members: memberDigests(index.docId, index) };
}
