/**
 * Record signatures: the check of the author's signature over domain ‖ header ‖ body, the
 * per-engine memory of signatures already found valid (docs/decisions/0022, 0027), checks under
 * way (0055) and the own-signature shortcut. Apart from record.ts because it is the codec's only
 * state; sealing and parsing stay pure.
 */
import {
  concatBytes,
  signingKeyPairFromSeed,
  utf8,
  verifyDetached,
  bytesEqual,
  toHex,
  isAcceptablePublicKey,
  isCanonicalScalar,
  type Ed25519Engine,
  type Hash32,
  type Signature,
  type SigningSecretKey,
} from '../crypto/index.ts';
import { DOMAIN } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import { recordIdOf } from './record-hashes.ts';
import type { ParsedRecord, VerifiedRecord } from './record-shapes.ts';

export const SIG_DOMAIN = utf8(DOMAIN.recordSignature);

/**
 * Signatures this process already found valid, per engine: record id (hex) -> signature bytes.
 * The id is H(header ‖ body), the protocol's record identity: an equal id means equal signed
 * bytes, author included, so an equal signature verifies the same way. A replica checks each
 * record the relay forwards twice (its relay gate, then its sync engine), each a WebCrypto
 * verify on the edit's critical path; the second one is answered from here. Only successes
 * are kept, and a hit needs the exact signature bytes: anything else is verified afresh.
 */
const VERIFIED_LIMIT = 4096;
const verifiedByEngine = new WeakMap<Ed25519Engine, Map<string, Uint8Array>>();

function verifiedCache(engine: Ed25519Engine): Map<string, Uint8Array> {
  let cache = verifiedByEngine.get(engine);
  if (!cache) verifiedByEngine.set(engine, (cache = new Map()));
  return cache;
}

/**
 * Checks under way, per engine: record id (hex) -> the signature bytes and the engine's answer
 * (docs/decisions/0055). A second check of the same id and the exact same signature bytes while
 * the first runs waits for that answer instead of starting another: it is the answer it would
 * get (the cache's rule above). Dropped once answered; only a success reaches the cache.
 */
type Check = { readonly signature: Uint8Array; readonly valid: Promise<boolean> };
const checksByEngine = new WeakMap<Ed25519Engine, Map<string, Check>>();

function checksUnderWay(engine: Ed25519Engine): Map<string, Check> {
  let checks = checksByEngine.get(engine);
  if (!checks) checksByEngine.set(engine, (checks = new Map()));
  return checks;
}

/** Signing keys whose public half is the one their seed derives: key object -> the bytes checked. */
const consistentSigners = new WeakMap<Uint8Array, Uint8Array>();

function signerIsConsistent(secretKey: SigningSecretKey): boolean {
  const checked = consistentSigners.get(secretKey);
  if (checked !== undefined && bytesEqual(checked, secretKey)) return true;
  const derived = signingKeyPairFromSeed(secretKey.subarray(0, 32)).publicKey;
  if (!bytesEqual(derived, secretKey.subarray(32, 64))) return false;
  consistentSigners.set(secretKey, secretKey.slice());
  return true;
}

/**
 * A record this process has just signed is remembered as verified by the engine that signed it
 * (docs/decisions/0027): its replica's relay gate would otherwise spend a WebCrypto verify on
 * it. Only when that verify could not fail: the author is the signing key's public half, that
 * half is the one its seed derives (checked once per key), the key passes the strict key check
 * and S is canonical. An Ed25519 signature made with such a key verifies (RFC 8032). Anything
 * else is not remembered, so it is verified as before.
 */
export function rememberOwnSignature(engine: Ed25519Engine, id: Hash32, signature: Signature, secretKey: SigningSecretKey, author: Uint8Array): void {
  if (!bytesEqual(author, secretKey.subarray(32, 64)) || !isCanonicalScalar(signature) || !isAcceptablePublicKey(author)) return;
  if (!signerIsConsistent(secretKey)) return;
  const cache = verifiedCache(engine);
  if (cache.size >= VERIFIED_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(toHex(id), signature.slice());
}

/** Checks the author's signature over domain ‖ header ‖ body (once per record and engine). */
export async function verifyRecord(record: ParsedRecord, engine: Ed25519Engine): Promise<Result<VerifiedRecord>> {
  const cache = verifiedCache(engine);
  // Hashed from the bytes being checked, not taken from `record.id`: the key always names them.
  const id = toHex(recordIdOf(record.headerBytes, record.body));
  const known = cache.get(id);
  if (known !== undefined && bytesEqual(known, record.signature)) return ok(record as VerifiedRecord);
  const checks = checksUnderWay(engine);
  const running = checks.get(id);
  const valid = running !== undefined && bytesEqual(running.signature, record.signature) ? await running.valid : await check(engine, record, id, cache, checks);
  if (!valid) return fail('RECORD_BAD_SIGNATURE', 'record signature does not verify');
  return ok(record as VerifiedRecord);
}

/** One engine call for `record` (id `id`), shared while it runs; a success is remembered. */
async function check(engine: Ed25519Engine, record: ParsedRecord, id: string, cache: Map<string, Uint8Array>, checks: Map<string, Check>): Promise<boolean> {
  const signature = record.signature.slice();
  const valid = verifyDetached(engine, concatBytes(SIG_DOMAIN, record.headerBytes, record.body), signature, record.header.author);
  // Another check of this id with other signature bytes may be running: it keeps its entry.
  const shared = !checks.has(id);
  if (shared) checks.set(id, { signature, valid });
  try {
    if (!(await valid)) return false;
    if (cache.size >= VERIFIED_LIMIT) cache.delete(cache.keys().next().value!);
    cache.set(id, signature);
    return true;
  } finally {
    if (shared) checks.delete(id);
  }
}

/**
 * Starts the signature check of `record` and returns at once (docs/decisions/0055): a
 * `verifyRecord` of the same record while it runs waits for this check instead of starting its
 * own, so a caller with other work to do first (a relay gate decoding the whole update) lets the
 * engine's thread run meanwhile. Decides nothing: its answer is only ever used by `verifyRecord`.
 */
export function startVerifying(record: ParsedRecord, engine: Ed25519Engine): void {
  verifyRecord(record, engine).catch(() => undefined);
}
