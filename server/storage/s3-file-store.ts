/**
 * Encrypted document files in an S3-compatible store (`BLOB_STORE=s3://bucket/prefix`,
 * `S3_ENDPOINT` for anything but AWS; credentials from the SDK's usual variables), through the
 * AWS SDK v3. Object key: `<prefix>/<doc>/<id>`. Bodies are ciphertext; the store learns sizes,
 * ids and which document a file belongs to, as the relay does.
 *
 * Checksums are computed and validated only where the operation requires them (`WHEN_REQUIRED`):
 * S3-compatible stores (MinIO versions, s3rver, …) reject or lack the SDK's newer defaults.
 * Every request has a timeout; a failure rejects (the route answers 500 BLOB_RELAY_FAILED, the
 * client retries).
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { FileStoreError } from '../errors.ts';
import { fitsQuota, KeyedQueue, type FileAddress, type FileQuota, type FileStore, type PutResult } from './file-store.ts';

/**
 * Document and file names as the routes pass them (base64url ids): anything else could name a
 * key outside its document (`a/../b`, `doc/` listing another document's `doc/x/…`), so the store
 * refuses it before asking S3 (tests/server/attack-s3.test.ts).
 */
const NAME = /^[A-Za-z0-9_-]{1,64}$/;
function checkName(name: string): string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new FileStoreError('FILE_STORE_BAD_NAME', 'a file store name must be 1-64 base64url characters');
  return name;
}

export interface S3Location {
  readonly bucket: string;
  /** Without leading or trailing slash; '' for the bucket's root. */
  readonly prefix: string;
}

/** `s3://bucket/some/prefix` → { bucket, prefix }; throws a RangeError naming the setting. */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new RangeError('BLOB_STORE must look like s3://bucket/prefix');
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

export interface S3FileStoreOptions {
  readonly endpoint?: string;
  readonly region?: string;
  /** Path-style addressing (bucket in the path): what most S3-compatible servers need. Default: true when an endpoint is set. */
  readonly forcePathStyle?: boolean;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Per request. Default 10 s. */
  readonly timeoutMs?: number;
}

export class S3FileStore implements FileStore {
  private readonly s3: S3Client;
  private readonly location: S3Location;
  private readonly timeoutMs: number;
  private readonly puts = new KeyedQueue();

  constructor(location: S3Location, o: S3FileStoreOptions = {}) {
    this.location = location;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.s3 = new S3Client({
      ...(o.endpoint ? { endpoint: o.endpoint } : {}),
      region: o.region ?? 'us-east-1',
      forcePathStyle: o.forcePathStyle ?? o.endpoint !== undefined,
      ...(o.credentials ? { credentials: { ...o.credentials } } : {}),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
    });
  }

  putWithinQuota(doc: string, id: string, data: Uint8Array, _now: number, quota: FileQuota): Promise<PutResult> {
    return this.puts.run(doc, async () => {
      if (await this.has(doc, id)) return 'exists';
      if (!(await this.fits(doc, data.length, quota))) return 'over-quota';
      await this.putObject(doc, id, data);
      return 'created';
    });
  }

  /** Content-addressed: writing over a stored file writes the same bytes. */
  async putRestored(doc: string, id: string, data: Uint8Array): Promise<void> {
    await this.putObject(doc, id, data);
  }

  async has(doc: string, id: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.location.bucket, Key: this.key(doc, id) }), this.timeout());
      return true;
    } catch (e) {
      if (isMissing(e)) return false;
      throw e;
    }
  }

  async fits(doc: string, size: number, quota: FileQuota): Promise<boolean> {
    return fitsQuota(await this.usage(doc), size, quota);
  }

  async get(doc: string, id: string): Promise<Uint8Array | undefined> {
    try {
      const reply = await this.s3.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: this.key(doc, id) }), this.timeout());
      const data = reply.Body ? await reply.Body.transformToByteArray() : undefined;
      // Files are content-addressed (the id is the SHA-256 of the body): bytes changed in the
      // bucket are never served as the file (the client would refuse them too, later, as BLOB_TAMPERED).
      if (data && createHash('sha256').update(data).digest('base64url') !== id) throw new FileStoreError('FILE_STORE_CORRUPT', 'a stored file does not match its id');
      return data;
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  async usage(doc: string): Promise<{ files: number; bytes: number }> {
    let files = 0;
    let bytes = 0;
    for await (const o of this.objects(this.docPrefix(doc))) {
      files++;
      bytes += o.Size ?? 0;
    }
    return { files, bytes };
  }

  async eraseDocument(doc: string): Promise<void> {
    const keys: string[] = [];
    for await (const o of this.objects(this.docPrefix(doc))) if (o.Key) keys.push(o.Key);
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
      const reply = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.location.bucket, Delete: { Objects: batch, Quiet: true } }), this.timeout());
      if (reply.Errors && reply.Errors.length > 0) throw new Error(`S3 refused to delete ${reply.Errors.length} file(s)`);
    }
  }

  async dumpAll(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const o of this.objects(this.rootPrefix())) {
      const reply = await this.s3.send(new GetObjectCommand({ Bucket: this.location.bucket, Key: o.Key! }), this.timeout());
      if (reply.Body) out.push(await reply.Body.transformToByteArray());
    }
    return out;
  }

  /** Objects under the prefix that are not `<doc>/<id>` of valid names (put there by something else) are left out. */
  async *list(): AsyncGenerator<FileAddress> {
    const root = this.rootPrefix();
    for await (const o of this.objects(root)) {
      const m = /^([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9_-]{1,64})$/.exec((o.Key ?? '').slice(root.length)); // names the store takes (checkName)
      if (m) yield { doc: m[1]!, id: m[2]!, ...(o.Size === undefined ? {} : { size: o.Size }) };
    }
  }

  async ping(): Promise<void> {
    await this.s3.send(new HeadBucketCommand({ Bucket: this.location.bucket }), this.timeout());
  }

  async close(): Promise<void> {
    this.s3.destroy();
  }

  private key(doc: string, id: string): string {
    return `${this.docPrefix(doc)}${checkName(id)}`;
  }

  private async putObject(doc: string, id: string, data: Uint8Array): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: this.key(doc, id), Body: data, ContentType: 'application/octet-stream' }), this.timeout());
  }

  private rootPrefix(): string {
    return this.location.prefix ? `${this.location.prefix}/` : '';
  }

  private docPrefix(doc: string): string {
    return `${this.rootPrefix()}${checkName(doc)}/`;
  }

  private async *objects(prefix: string): AsyncGenerator<_Object> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.location.bucket, Prefix: prefix, ContinuationToken: token }), this.timeout());
      yield* page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private timeout(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.timeoutMs) };
  }
}

function isMissing(e: unknown): boolean {
  if (e instanceof NoSuchKey || e instanceof NotFound) return true;
  const status = (e as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === 404;
}
