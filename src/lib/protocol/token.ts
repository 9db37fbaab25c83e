/**
 * Relay authentication token: a member proves possession of its signing key for one document
 * until a short expiry. No passwords, nothing about the person.
 *   token = base64url( author(32) ‖ docId(16) ‖ expiresAt(u48) ‖ genesisNonce(16, zero unless creating) ‖ sig(64) )
 *   sig   = Ed25519(domain ‖ everything before sig)
 * A creator opening a new, empty document proves H(author ‖ genesisNonce) = docId instead of membership.
 */
import {
  concatBytes,
  fromBase64Url,
  isAllZero,
  signDetached,
  toBase64Url,
  utf8,
  verifyDetached,
  bytesEqual,
  type Ed25519Engine,
  type SigningPublicKey,
  type SigningSecretKey,
} from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { DOC_ID_LENGTH, DOMAIN, PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import { GENESIS_NONCE_LENGTH } from './membership.ts';

const TOKEN_DOMAIN = utf8(DOMAIN.authToken);
const BODY_LENGTH = PUBLIC_KEY_LENGTH + DOC_ID_LENGTH + 6 + GENESIS_NONCE_LENGTH;

export interface AuthToken {
  readonly author: SigningPublicKey;
  readonly docId: Uint8Array;
  readonly expiresAt: number;
  /** Present only when the creator opens a document that does not exist yet. */
  readonly genesisNonce: Uint8Array | undefined;
}

export async function createAuthToken(o: {
  secretKey: SigningSecretKey;
  docId: Uint8Array;
  expiresAt: number;
  genesisNonce?: Uint8Array;
  engine: Ed25519Engine;
}): Promise<string> {
  const body = new ByteWriter()
    .bytes(o.secretKey.subarray(32, 64))
    .bytes(o.docId)
    .u48(o.expiresAt)
    .bytes(o.genesisNonce ?? new Uint8Array(GENESIS_NONCE_LENGTH))
    .finish();
  const sig = await signDetached(o.engine, concatBytes(TOKEN_DOMAIN, body), o.secretKey);
  return toBase64Url(concatBytes(body, sig));
}

export async function verifyAuthToken(
  token: string,
  o: { docId: Uint8Array; now: number; engine: Ed25519Engine; maxLifetimeMs: number },
): Promise<Result<AuthToken>> {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(token);
  } catch {
    return fail('TOKEN_MALFORMED', 'token is not base64url');
  }
  if (bytes.length !== BODY_LENGTH + SIGNATURE_LENGTH) return fail('TOKEN_MALFORMED', 'token has the wrong length');
  const r = new ByteReader(bytes);
  const author = r.take(PUBLIC_KEY_LENGTH)! as SigningPublicKey;
  const docId = r.take(DOC_ID_LENGTH)!;
  const expiresAt = r.u48()!;
  const genesisNonce = r.take(GENESIS_NONCE_LENGTH)!;
  const sig = r.take(SIGNATURE_LENGTH)!;
  if (!bytesEqual(docId, o.docId)) return fail('TOKEN_WRONG_DOC', 'token names another document');
  if (expiresAt <= o.now) return fail('TOKEN_EXPIRED', 'token expired');
  if (expiresAt > o.now + o.maxLifetimeMs) return fail('TOKEN_EXPIRED', 'token lifetime too long');
  const valid = await verifyDetached(o.engine, concatBytes(TOKEN_DOMAIN, bytes.subarray(0, BODY_LENGTH)), sig, author);
  if (!valid) return fail('TOKEN_BAD_SIGNATURE', 'token signature does not verify');
  return ok({ author, docId, expiresAt, genesisNonce: isAllZero(genesisNonce) ? undefined : genesisNonce });
}
