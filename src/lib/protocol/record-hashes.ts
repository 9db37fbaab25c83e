/**
 * What a record's bytes derive: its header hash, its id and (v3) its secretbox key and nonce.
 * Pure functions shared by sealing, parsing, verifying and opening, so each of those modules
 * reads them from here and none from another.
 */
import { hashWithDomain, type Hash32, type SymmetricKey } from '../crypto/index.ts';
import { DOMAIN, NONCE_LENGTH } from './constants.ts';

export const headerHash = (headerBytes: Uint8Array): Hash32 => hashWithDomain(DOMAIN.headerHash, headerBytes);
export const recordIdOf = (headerBytes: Uint8Array, body: Uint8Array): Hash32 =>
  hashWithDomain(DOMAIN.recordId, headerBytes, body);
/**
 * v3: the secretbox key of the record with this header. Both inputs have fixed lengths (32 + 32
 * bytes after the length-prefixed domain), so SHA-256's length extension yields no other valid
 * input; a member who knows the epoch key can compute it, as it can open the record anyway.
 */
export const recordKeyFor = (epochKey: SymmetricKey, headerBytes: Uint8Array): SymmetricKey =>
  hashWithDomain(DOMAIN.recordKey, epochKey, headerHash(headerBytes)) as Uint8Array as SymmetricKey;
export const v3Nonce = (n: Uint8Array): Uint8Array => {
  const nonce = new Uint8Array(NONCE_LENGTH);
  nonce.set(n);
  return nonce;
};
