/**
 * The SHL file encryption: JWE compact serialization, alg "dir", enc "A256GCM", the 32-byte key
 * of the link (STU1). Encryption and the usual decryption go through `jose` (a maintained JOSE
 * library, docs/decisions/0031). jose 6 dropped "zip", which the spec allows ("DEF", raw
 * DEFLATE) for files other viewers' senders make: those are decrypted with WebCrypto AES-GCM
 * over the same protected-header AAD and inflated with DecompressionStream. The header is
 * checked first, so a file under any other algorithm is refused before any decryption.
 */
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import { concatBytes, fromBase64Url } from '../../crypto/bytes.ts';
import { ShlError } from './errors.ts';

export interface JweOptions {
  /** The header's `cty` (optional in the spec; we always name the content). */
  readonly contentType?: string;
  /**
   * 12 bytes from the caller's random source (injected, so known-answer tests reproduce; jose
   * marks the setter "for testing" because a reused IV breaks GCM: callers pass fresh random).
   */
  readonly iv: Uint8Array;
}

export async function encryptJwe(plaintext: Uint8Array, key: Uint8Array, o: JweOptions): Promise<string> {
  if (key.length !== 32) throw new ShlError('SHL_MALFORMED', 'the link key must be 32 bytes');
  if (o.iv.length !== 12) throw new ShlError('SHL_MALFORMED', 'the IV must be 12 bytes');
  return new CompactEncrypt(plaintext)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...(o.contentType ? { cty: o.contentType } : {}) })
    .setInitializationVector(o.iv)
    .encrypt(key);
}

const failed = (): never => {
  throw new ShlError('SHL_DECRYPT_FAILED', 'the shared file could not be decrypted with this link');
};

export async function decryptJwe(jwe: string, key: Uint8Array): Promise<{ plaintext: Uint8Array; contentType: string | undefined }> {
  if (typeof jwe !== 'string' || jwe.split('.').length !== 5) return failed();
  let header;
  try {
    header = decodeProtectedHeader(jwe);
  } catch {
    return failed();
  }
  if (header.alg !== 'dir' || header.enc !== 'A256GCM' || (header.zip !== undefined && header.zip !== 'DEF')) return failed();
  const contentType = typeof header.cty === 'string' ? header.cty : undefined;
  if (header.zip === 'DEF') return { plaintext: await inflateRaw(await decryptGcm(jwe, key)), contentType };
  try {
    const { plaintext } = await compactDecrypt(jwe, key, { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return { plaintext, contentType };
  } catch {
    return failed();
  }
}

/** RFC 7516 §5.2 for dir + A256GCM: AAD is the ASCII of the encoded protected header. */
async function decryptGcm(jwe: string, key: Uint8Array): Promise<Uint8Array> {
  const [protectedB64, encryptedKey, ivB64, ciphertextB64, tagB64] = jwe.split('.') as [string, string, string, string, string];
  try {
    if (encryptedKey !== '') return failed();
    const iv = fromBase64Url(ivB64);
    const tag = fromBase64Url(tagB64);
    const ciphertext = fromBase64Url(ciphertextB64);
    if (iv.length !== 12 || tag.length !== 16 || key.length !== 32) return failed();
    const sealed = new Uint8Array(ciphertext.length + 16);
    sealed.set(ciphertext);
    sealed.set(tag, ciphertext.length);
    const cryptoKey = await crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['decrypt']);
    const aad = new TextEncoder().encode(protectedB64);
    return new Uint8Array(await crypto.subtle.decrypt({ name: 'AES-GCM', iv: iv as Uint8Array<ArrayBuffer>, additionalData: aad, tagLength: 128 }, cryptoKey, sealed));
  } catch (e) {
    if (e instanceof ShlError) throw e;
    return failed();
  }
}

/** Cap on an inflated file, so a small "zip bomb" cannot exhaust the viewer's memory. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

async function inflateRaw(bytes: Uint8Array): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = stream.getReader();
    for (;;) {
      const { done, value: chunk } = await reader.read();
      if (done) break;
      size += chunk.length;
      if (size > MAX_INFLATED_BYTES) return failed();
      chunks.push(chunk);
    }
    return concatBytes(...chunks);
  } catch (e) {
    if (e instanceof ShlError) throw e;
    return failed();
  }
}
