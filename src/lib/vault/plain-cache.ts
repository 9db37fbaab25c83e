/**
 * A device-local, sealed cache of a profile's plain state, so a cold open shows the person's
 * data after one decrypt and one Yjs apply instead of verifying and decrypting every record
 * first (docs/decisions/0020). The envelope is still loaded and every record verified right
 * after, in the background (sync/profile-sync.ts `verifyCached`); the cache only decides what is
 * shown first, never what is trusted.
 *
 * At rest it is AES-GCM under a device-local, non-extractable WebCrypto key of its own (the
 * device store keeps it beside the wrapping key, storage/device-store.ts), with the document id
 * and the format version bound as additional data, so a cache is never accepted for another
 * document or format. Writing it is off the hot path: debounced after changes, and on close.
 */
import { concatBytes, fromUtf8, secureRandom, utf8, type RandomSource } from '../crypto/index.ts';
import type { PlainCacheStore } from '../storage/types.ts';

export const PLAIN_CACHE_FORMAT = 1;
const IV_LENGTH = 12;
const AAD_PREFIX = utf8(`fhv/plain-cache/v${PLAIN_CACHE_FORMAT}`);
/** After the last change, wait this long before writing (edits keep pushing it back)... */
export const DEFAULT_CACHE_IDLE_MS = 1500;
/** ...but never longer than this after the first unwritten change. */
export const DEFAULT_CACHE_MAX_WAIT_MS = 15_000;

export interface PlainCacheOptions {
  /** AES-GCM key, non-extractable (createPlainCacheKey); the device store keeps it. */
  readonly key: CryptoKey;
  readonly subtle?: SubtleCrypto;
  /** IVs (injected in tests for determinism). */
  readonly random?: RandomSource;
  readonly idleMs?: number;
  readonly maxWaitMs?: number;
}

/** One author's chain position the cached state includes (hex signing key, sequence number). */
export interface CoveredHead {
  readonly author: string;
  readonly seq: number;
}

/** What a cache holds: the plain state, which records it covers, and under which epoch it was written. */
export interface PlainCacheContents {
  /** The epoch current when written (a cache from before the newest key the device was given is ignored). */
  readonly epoch: number;
  /** The device could write then: lets edits queue while the background check runs. */
  readonly writer: boolean;
  /** Every author's verified chain head applied into `state`: the tail is every record after these. */
  readonly coverage: readonly CoveredHead[];
  /** Y.encodeStateAsUpdate of the plain doc (v1, what the peer benchmark applies too). */
  readonly state: Uint8Array;
}

export function createPlainCacheKey(subtle: SubtleCrypto = globalThis.crypto.subtle): Promise<CryptoKey> {
  return subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as Promise<CryptoKey>;
}

const aad = (docId: Uint8Array) => concatBytes(AAD_PREFIX, docId);

function encodeContents(c: PlainCacheContents): Uint8Array {
  const header = utf8(JSON.stringify({ e: c.epoch, w: c.writer, c: c.coverage.map((h) => [h.author, h.seq]) }));
  const out = new Uint8Array(4 + header.length + c.state.length);
  new DataView(out.buffer).setUint32(0, header.length);
  out.set(header, 4);
  out.set(c.state, 4 + header.length);
  return out;
}

function decodeContents(b: Uint8Array): PlainCacheContents {
  const n = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
  const h = JSON.parse(fromUtf8(b.subarray(4, 4 + n))) as { e: unknown; w: unknown; c: unknown };
  if (!Number.isSafeInteger(h.e) || typeof h.w !== 'boolean' || !Array.isArray(h.c)) throw new Error('shape');
  const coverage = h.c.map((x: unknown) => {
    if (!Array.isArray(x) || typeof x[0] !== 'string' || !Number.isSafeInteger(x[1])) throw new Error('shape');
    return { author: x[0] as string, seq: x[1] as number };
  });
  // A view, not a copy: the decrypted buffer is this cache's own.
  return { epoch: h.e as number, writer: h.w, coverage, state: b.subarray(4 + n) };
}

/** Seals the contents for this document: version byte, random IV, AES-GCM ciphertext. */
export async function sealPlainCache(contents: PlainCacheContents, docId: Uint8Array, o: PlainCacheOptions): Promise<Uint8Array> {
  const subtle = o.subtle ?? globalThis.crypto.subtle;
  const iv = (o.random ?? secureRandom)(IV_LENGTH);
  const plain = encodeContents(contents);
  const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad(docId) as BufferSource }, o.key, plain as BufferSource));
  plain.fill(0);
  return concatBytes(Uint8Array.of(PLAIN_CACHE_FORMAT), iv, ct);
}

/** Opens a sealed cache of this document; throws on any failure (wrong key, document, version; tampered). */
export async function openPlainCache(sealed: Uint8Array, docId: Uint8Array, o: PlainCacheOptions): Promise<PlainCacheContents> {
  if (sealed.length < 1 + IV_LENGTH + 16 || sealed[0] !== PLAIN_CACHE_FORMAT) throw new Error('format');
  const subtle = o.subtle ?? globalThis.crypto.subtle;
  const plain = await subtle.decrypt(
    { name: 'AES-GCM', iv: sealed.subarray(1, 1 + IV_LENGTH) as BufferSource, additionalData: aad(docId) as BufferSource },
    o.key,
    sealed.subarray(1 + IV_LENGTH) as BufferSource,
  );
  return decodeContents(new Uint8Array(plain));
}

export type CacheRead =
  | { readonly outcome: 'hit'; readonly contents: PlainCacheContents }
  | { readonly outcome: 'none' | 'unreadable' | 'other-epoch' };

/** The stored sealed cache, or undefined (none, or the store failed: the full path runs). */
export async function readSealedCache(store: PlainCacheStore): Promise<Uint8Array | undefined> {
  try {
    return await store.read();
  } catch {
    return undefined;
  }
}

/**
 * Opens a stored cache. The decrypt is started before this returns its promise, so the caller
 * can build the engine while another thread decrypts. An unreadable cache is deleted (it never
 * opens again). One written in a session under an older epoch than the newest key this device
 * was given is ignored: it predates a key change the device already knows of (the full path
 * runs and writes a new one). A newer one is fine: keys delivered by lockbox are not in the
 * access the device opens with, and the background check verifies the content anyway.
 */
export async function openStoredCache(sealed: Uint8Array, store: PlainCacheStore, docId: Uint8Array, newestHeldEpoch: number, o: PlainCacheOptions): Promise<CacheRead> {
  let contents: PlainCacheContents;
  try {
    contents = await openPlainCache(sealed, docId, o);
  } catch {
    await store.clear().catch(() => undefined);
    return { outcome: 'unreadable' };
  }
  if (contents.epoch < newestHeldEpoch) return { outcome: 'other-epoch' };
  return { outcome: 'hit', contents };
}

/** What the writer asks for when it is time: the contents to seal, or undefined if not now. */
export type CacheSource = () => Promise<PlainCacheContents | undefined>;

/**
 * Writes the cache after changes settle (debounced, with a maximum wait) and on close; never
 * per change. One write at a time; a change during a write makes another one due.
 */
export class PlainCacheWriter {
  private dirty = false;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private maxTimer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Size of the last sealed cache written (bytes), for diagnostics and the benchmark. */
  lastWrittenBytes = 0;

  private readonly c: { readonly docId: Uint8Array; readonly store: PlainCacheStore; readonly options: PlainCacheOptions; readonly source: CacheSource };

  constructor(c: PlainCacheWriter['c']) {
    this.c = c;
  }

  /** A change happened: (re)arm the idle timer; cheap enough to call on every update. */
  readonly changed = (): void => {
    if (this.stopped) return;
    this.dirty = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.writeNow().catch(() => undefined), this.c.options.idleMs ?? DEFAULT_CACHE_IDLE_MS);
    this.maxTimer ??= setTimeout(() => void this.writeNow().catch(() => undefined), this.c.options.maxWaitMs ?? DEFAULT_CACHE_MAX_WAIT_MS);
  };

  /** Writes now if anything changed since the last write and the source allows it. */
  writeNow(): Promise<void> {
    this.clearTimers();
    this.running = this.running.then(async () => {
      if (!this.dirty || this.stopped) return;
      this.dirty = false;
      const contents = await this.c.source();
      if (!contents) {
        this.dirty = true; // not now (checking, queued edits): the next change or close retries
        return;
      }
      const sealed = await sealPlainCache(contents, this.c.docId, this.c.options);
      if (this.stopped) return;
      await this.c.store.write(sealed);
      this.lastWrittenBytes = sealed.length;
    });
    return this.running;
  }

  /** Deletes the stored cache and writes no more (a mismatch, or erasure). */
  async discard(): Promise<void> {
    this.stop();
    await this.running.catch(() => undefined);
    await this.c.store.clear().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    this.clearTimers();
  }

  private clearTimers(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.maxTimer) clearTimeout(this.maxTimer);
    this.idleTimer = this.maxTimer = undefined;
  }
}
