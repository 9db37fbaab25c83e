import { hashWithDomain, type SigningPublicKey } from '../crypto/index.ts';
import { DOC_ID_LENGTH, DOMAIN } from './constants.ts';

/**
 * A profile's id is self-certifying: H(creator key ‖ nonce). Anyone holding the genesis record
 * can check who created the document, so neither relay nor members can swap the creator.
 */
export function deriveDocId(creator: SigningPublicKey, nonce: Uint8Array): Uint8Array {
  return hashWithDomain(DOMAIN.docId, creator, nonce).subarray(0, DOC_ID_LENGTH);
}

/**
 * Yjs does not authenticate clientIDs, so each one is derived from the signer's key:
 * clientID = first 52 bits of H(docId ‖ author ‖ session). A record may only contain structs
 * whose clientID derives from its own author and a session it declares. Forging another
 * signer's clientID means a 2^52 preimage search. (Yjs encodes clientIDs as varuints and
 * handles values up to 2^53; tests cover 52-bit ids.)
 */
export function deriveClientId(docId: Uint8Array, author: SigningPublicKey, session: number): number {
  const s = new Uint8Array(4);
  new DataView(s.buffer).setUint32(0, session >>> 0);
  const h = hashWithDomain(DOMAIN.clientId, docId, author, s);
  // 52 bits = 6.5 bytes; the result is a safe integer below 2^52 and never 0.
  let n = 0;
  for (let i = 0; i < 6; i++) n = n * 256 + h[i]!;
  n = n * 16 + (h[6]! >> 4);
  return n === 0 ? 1 : n;
}
