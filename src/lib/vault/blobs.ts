/**
 * Document files (docs/decisions/0015). A file is sealed on the device under a fresh random key
 * and stored on the relay by content address; the key travels only inside the encrypted profile
 * (the DocumentReference's attachment), so the relay holds bytes it cannot open.
 *
 *   ciphertext = version(u8 = 1) ‖ nonce(24) ‖ XSalsa20-Poly1305(file, nonce, key)
 *   id         = base64url(SHA-256(ciphertext))        the relay checks it on PUT, readers on GET
 *   hash       = base64(SHA-256(file))                 FHIR Attachment.hash, checked after opening
 *
 * Routes: PUT/GET `<relay origin>/blobs/<doc name>/<id>` with the relay token as a Bearer
 * credential (docs/protocol.md §7a).
 */
import {
  asSymmetricKey,
  fromBase64Url,
  generateSymmetricKey,
  secretboxOpen,
  secretboxSeal,
  secureRandom,
  sha256,
  toBase64Url,
  SECRETBOX_NONCE_LENGTH,
  SECRETBOX_OVERHEAD,
  type RandomSource,
  type SymmetricKey,
} from '../crypto/index.ts';
import { VaultError } from './errors.ts';
import type { Profile } from './profile.ts';

export const BLOB_VERSION = 1;
/** version byte, nonce and Poly1305 tag. */
export const BLOB_OVERHEAD = 1 + SECRETBOX_NONCE_LENGTH + SECRETBOX_OVERHEAD;
/** What the relay stores at most by default (server/config.ts `maxBlobBytes`). */
export const MAX_BLOB_BYTES = 25 * 1024 * 1024;
/** The largest file a person can attach. */
export const MAX_FILE_BYTES = MAX_BLOB_BYTES - BLOB_OVERHEAD;
export const BLOB_URL_PREFIX = 'fhv-blob:';

export interface SealedBlob {
  /** base64url SHA-256 of `ciphertext`: the relay's address for it. */
  readonly id: string;
  /** This file's own key (never reused, never sent to the relay). */
  readonly key: SymmetricKey;
  readonly ciphertext: Uint8Array;
  /** base64 (with padding) SHA-256 of the file, as FHIR Attachment.hash. */
  readonly hash: string;
  /** The file's length in bytes. */
  readonly size: number;
}

/** FHIR Attachment metadata as a DocumentReference holds it; `key` is ours (base64url). */
export interface BlobAttachment {
  readonly title: string;
  readonly contentType: string;
  readonly size: number;
  readonly hash: string;
  readonly creation: string;
  readonly url: string;
  readonly key: string;
}

/** An attachment as read from a record (loose: validated here). */
export interface AttachmentRef {
  readonly url?: unknown;
  readonly key?: unknown;
  readonly hash?: unknown;
  readonly size?: unknown;
}

const ID = /^[A-Za-z0-9_-]{43}$/;
const MIME = /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/i;

/** Standard base64 with padding (FHIR base64Binary); the crypto helpers speak base64url. */
function toBase64(bytes: Uint8Array): string {
  const url = toBase64Url(bytes).replaceAll('-', '+').replaceAll('_', '/');
  return url + '='.repeat((4 - (url.length % 4)) % 4);
}

export const blobId = (ciphertext: Uint8Array): string => toBase64Url(sha256(ciphertext));
export const fileHash = (bytes: Uint8Array): string => toBase64(sha256(bytes));

/** Seals one file. Pure; deterministic for a given `random` (key first, then nonce). */
export function sealBlob(bytes: Uint8Array, random: RandomSource = secureRandom): SealedBlob {
  const key = generateSymmetricKey(random);
  const nonce = random(SECRETBOX_NONCE_LENGTH);
  const box = secretboxSeal(bytes, nonce, key);
  const ciphertext = new Uint8Array(1 + nonce.length + box.length);
  ciphertext[0] = BLOB_VERSION;
  ciphertext.set(nonce, 1);
  ciphertext.set(box, 1 + nonce.length);
  return { id: blobId(ciphertext), key, ciphertext, hash: fileHash(bytes), size: bytes.length };
}

/**
 * Opens a file: the bytes must be the ones the record names (id), open under its key, and hash
 * to the record's `hash`. Anything else is BLOB_TAMPERED; nothing partial is returned.
 */
export function openBlob(ciphertext: Uint8Array, key: Uint8Array, expect: { readonly id: string; readonly hash: string }): Uint8Array {
  if (blobId(ciphertext) !== expect.id) throw tampered('the file from the relay is not the one this document names');
  if (key.length !== 32) throw tampered("this document's file key is malformed");
  if (ciphertext.length < BLOB_OVERHEAD || ciphertext[0] !== BLOB_VERSION) throw tampered('the file is not in a format this app reads');
  const nonce = ciphertext.subarray(1, 1 + SECRETBOX_NONCE_LENGTH);
  const plain = secretboxOpen(ciphertext.subarray(1 + SECRETBOX_NONCE_LENGTH), nonce, asSymmetricKey(key));
  if (!plain) throw tampered('the file does not open with its key');
  if (fileHash(plain) !== expect.hash) throw tampered("the file's contents do not match this document");
  return plain;
}

const tampered = (message: string) => new VaultError('BLOB_TAMPERED', `${message}; it was not opened`);

/** The relay address and file key an attachment names, or undefined if it names none. */
export function blobRef(attachment: AttachmentRef | undefined): { id: string; key: SymmetricKey; hash: string } | undefined {
  const url = attachment?.url;
  const key = attachment?.key;
  const hash = attachment?.hash;
  if (typeof url !== 'string' || typeof key !== 'string' || typeof hash !== 'string' || !url.startsWith(BLOB_URL_PREFIX)) return undefined;
  const id = url.slice(BLOB_URL_PREFIX.length);
  if (!ID.test(id)) return undefined;
  try {
    const bytes = fromBase64Url(key);
    return bytes.length === 32 ? { id, key: asSymmetricKey(bytes), hash } : undefined;
  } catch {
    return undefined;
  }
}

// ---- transport ---------------------------------------------------------------------------------

interface RelayTarget {
  readonly base: string;
  readonly name: string;
  token(): Promise<string>;
}

/**
 * The profile's relay over HTTP(S) on the WebSocket's origin, and the token its connection makes
 * for every (re)connect (signed by the same key, so the relay checks it the same way).
 */
function relayOf(profile: Profile): RelayTarget {
  const url = profile.relayUrl;
  if (!url) throw new VaultError('RELAY_NOT_CONFIGURED', 'files need a connection to the relay');
  const ws = new URL(url);
  const base = `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}${ws.pathname.replace(/\/+$/, '')}`;
  return { base, name: profile.name, token: () => profile.relayToken() };
}

async function call(relay: RelayTarget, id: string, init: { method: 'GET' | 'PUT'; body?: Uint8Array }): Promise<Response> {
  const token = await relay.token();
  try {
    return await fetch(`${relay.base}/blobs/${relay.name}/${id}`, {
      method: init.method,
      body: init.body as Uint8Array<ArrayBuffer> | undefined,
      headers: { Authorization: `Bearer ${token}`, ...(init.body ? { 'Content-Type': 'application/octet-stream' } : {}) },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new VaultError('RELAY_UNREACHABLE', 'could not reach the relay; please try again when online');
  }
}

const MB = (n: number) => Math.floor(n / (1024 * 1024));

/**
 * Seals a file, stores it on the relay and returns the attachment to save in a
 * DocumentReference (`content: [{ attachment }]`). The file key is in the result, so the record
 * (encrypted in the profile) is the only place that can open the file.
 */
export async function uploadBlob(
  profile: Profile,
  bytes: Uint8Array,
  meta: { readonly title: string; readonly contentType: string },
  o: { readonly random?: RandomSource; readonly now?: () => number } = {},
): Promise<BlobAttachment> {
  if (bytes.length > MAX_FILE_BYTES) throw new VaultError('BLOB_TOO_LARGE', `files can be at most ${MB(MAX_FILE_BYTES)} MB`);
  if (!profile.canWrite) throw new VaultError('RECORD_READ_ONLY', 'you can view this profile but not add files to it');
  const relay = relayOf(profile);
  const sealed = sealBlob(bytes, o.random);
  const response = await call(relay, sealed.id, { method: 'PUT', body: sealed.ciphertext });
  await response.arrayBuffer().catch(() => undefined); // a short status code; read so the request completes
  if (response.status === 413) throw new VaultError('BLOB_TOO_LARGE', 'the relay does not accept files this large');
  if (response.status === 401 || response.status === 403) throw new VaultError('BLOB_REFUSED', 'the relay did not accept a file from this device for this profile');
  if (!response.ok) throw new VaultError('BLOB_UPLOAD_FAILED', 'the file could not be stored on the relay; please try again');
  return {
    title: meta.title.trim().slice(0, 400) || 'Document',
    contentType: MIME.test(meta.contentType) ? meta.contentType : 'application/octet-stream',
    size: sealed.size,
    hash: sealed.hash,
    creation: new Date(o.now?.() ?? Date.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    url: `${BLOB_URL_PREFIX}${sealed.id}`,
    key: toBase64Url(sealed.key),
  };
}

/** Fetches and opens the file an attachment names (checked against the record: id and hash). */
export async function downloadBlob(profile: Profile, attachment: AttachmentRef): Promise<Uint8Array> {
  const ref = blobRef(attachment);
  if (!ref) throw new VaultError('BLOB_NOT_ATTACHED', 'this document has no file stored with it');
  const response = await call(relayOf(profile), ref.id, { method: 'GET' });
  if (response.status === 404) throw new VaultError('BLOB_NOT_FOUND', 'the relay does not have this file');
  if (response.status === 401 || response.status === 403) throw new VaultError('BLOB_REFUSED', "the relay did not let this device read this profile's files");
  if (!response.ok) throw new VaultError('BLOB_DOWNLOAD_FAILED', 'could not fetch the file from the relay; please try again');
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_BLOB_BYTES) {
    await response.body?.cancel();
    throw tampered('the relay sent more than a file can be');
  }
  const ciphertext = new Uint8Array(await response.arrayBuffer());
  return openBlob(ciphertext, ref.key, { id: ref.id, hash: ref.hash });
}
