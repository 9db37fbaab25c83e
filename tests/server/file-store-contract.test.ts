/**
 * One contract for every FileStore (server/storage/file-store.ts), run against DATA_DIR's SQLite
 * file and an S3-compatible server (s3rver): content addressing, per-document quotas that
 * concurrent uploads cannot squeeze past, erasure of one document only. Then the relay with
 * BLOB_STORE=s3://…: a member's file goes to S3 and back, and an erasure removes it there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { generateSigningKeyPair, nobleEngine, toBase64Url, utf8 } from '../../src/lib/crypto/index.ts';
import { createAuthToken } from '../../src/lib/protocol/index.ts';
import { sealBlob } from '../../src/lib/vault/blobs.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import type { FileStore } from '../../server/storage/file-store.ts';
import { PostgresFileIndex } from '../../server/storage/postgres-file-index.ts';
import { PostgresRelayStore } from '../../server/storage/postgres-relay-store.ts';
import { parseS3Url, S3FileStore } from '../../server/storage/s3-file-store.ts';
import { SqliteFileStore } from '../../server/storage/sqlite-file-store.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { withSeed } from '../helpers/prng.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

const FILE = 'tests/server/file-store-contract.test.ts';
let s3: TestS3;
let postgres: TestPostgres;
let prefixes = 0;
let databases = 0;
beforeAll(async () => {
  [s3, postgres] = await Promise.all([startS3(), startPostgres()]);
});
afterAll(async () => {
  await s3?.close();
  await postgres?.destroy();
});
/** A fresh bucket prefix and database: what one deployment with DATABASE_URL and BLOB_STORE uses. */
const indexedPlace = async () => ({ location: parseS3Url(`s3://${s3.bucket}/tenant-${++prefixes}`), url: await postgres.database(`files_${++databases}`) });

const body = (fill: number, size = 64) => new Uint8Array(size).fill(fill);
const idOf = (data: Uint8Array) => toBase64Url(createHash('sha256').update(data).digest());
const DOC = 'AAAAAAAAAAAAAAAAAAAAAA';
const OTHER = 'BBBBBBBBBBBBBBBBBBBBBB';

const BACKENDS: Array<{ name: string; open(): Promise<{ store: FileStore; cleanup(): Promise<void> }> }> = [
  {
    name: 'SQLite',
    async open() {
      const dir = tempDir('fhv-files-');
      const store = await SqliteFileStore.open(dir.path);
      return { store, cleanup: async () => (await store.close(), dir.remove()) };
    },
  },
  {
    name: 'S3 (s3rver)',
    async open() {
      const store = new S3FileStore(parseS3Url(`s3://${s3.bucket}/tenant-${++prefixes}`), s3.options);
      return { store, cleanup: () => store.close() };
    },
  },
  {
    name: 'S3 bodies, PostgreSQL metadata',
    async open() {
      const { location, url } = await indexedPlace();
      const store = await PostgresFileIndex.open(url, new S3FileStore(location, s3.options));
      return { store, cleanup: () => store.close() };
    },
  },
];

describe.each(BACKENDS)('FileStore contract: $name', (backend) => {
  it('stores by content: a second put of the same file is "exists"; get, has and usage agree', async () => {
    const { store, cleanup } = await backend.open();
    try {
      await store.ping();
      const quota = { bytes: 10_000, files: 10 };
      const a = body(1);
      expect(await store.has(DOC, idOf(a))).toBe(false);
      expect(await store.get(DOC, idOf(a))).toBeUndefined();
      expect(await store.putWithinQuota(DOC, idOf(a), a, 1, quota)).toBe('created');
      expect(await store.putWithinQuota(DOC, idOf(a), a, 2, quota)).toBe('exists');
      expect(await store.has(DOC, idOf(a))).toBe(true);
      expect(await store.get(DOC, idOf(a))).toEqual(a);
      expect(await store.get(OTHER, idOf(a))).toBeUndefined(); // per document
      expect(await store.usage(DOC)).toEqual({ files: 1, bytes: 64 });
      expect(await store.usage(OTHER)).toEqual({ files: 0, bytes: 0 });
    } finally {
      await cleanup();
    }
  });

  it('keeps each document within its quota, also when uploads arrive together', async () => {
    const { store, cleanup } = await backend.open();
    try {
      const quota = { bytes: 64 * 3, files: 10 };
      const files = Array.from({ length: 8 }, (_, i) => body(10 + i));
      const results = await Promise.all(files.map((f, i) => store.putWithinQuota(DOC, idOf(f), f, i, quota)));
      expect(results.filter((r) => r === 'created')).toHaveLength(3);
      expect(results.filter((r) => r === 'over-quota')).toHaveLength(5);
      expect(await store.usage(DOC)).toEqual({ files: 3, bytes: 192 });
      expect(await store.fits(DOC, 1, quota)).toBe(false);
      expect(await store.fits(OTHER, 64, quota)).toBe(true);
      const byCount = { bytes: 1_000_000, files: 3 };
      expect(await store.putWithinQuota(DOC, idOf(body(99)), body(99), 9, byCount)).toBe('over-quota');
    } finally {
      await cleanup();
    }
  });

  it("erasing a document removes its files and no other document's", async () => {
    const { store, cleanup } = await backend.open();
    try {
      const quota = { bytes: 10_000, files: 10 };
      for (const f of [body(1), body(2)]) await store.putWithinQuota(DOC, idOf(f), f, 1, quota);
      await store.putWithinQuota(OTHER, idOf(body(3)), body(3), 1, quota);
      await store.eraseDocument(DOC);
      expect(await store.usage(DOC)).toEqual({ files: 0, bytes: 0 });
      expect(await store.get(DOC, idOf(body(1)))).toBeUndefined();
      expect(await store.get(OTHER, idOf(body(3)))).toEqual(body(3));
      expect((await store.dumpAll()).map((b) => b[0])).toEqual([3]);
      await store.eraseDocument(DOC); // again: nothing to do
    } finally {
      await cleanup();
    }
  });
});

describe.each(BACKENDS)('FileStore backup seams: $name', (backend) => {
  it('lists every file by address; putRestored stores without a quota and leaves a stored file as it is', async () => {
    const { store, cleanup } = await backend.open();
    try {
      const files = [body(1), body(2), body(3)];
      const tiny = { bytes: 64, files: 1 };
      expect(await store.putWithinQuota(DOC, idOf(files[0]!), files[0]!, 1, tiny)).toBe('created');
      expect(await store.putWithinQuota(DOC, idOf(files[1]!), files[1]!, 1, tiny)).toBe('over-quota');
      await store.putRestored(DOC, idOf(files[1]!), files[1]!, 2); // past the quota: a restore is not an upload
      await store.putRestored(OTHER, idOf(files[2]!), files[2]!, 2);
      await store.putRestored(DOC, idOf(files[0]!), files[0]!, 3); // again: nothing changes
      const listed: Array<{ doc: string; id: string }> = [];
      for await (const a of store.list()) listed.push({ doc: a.doc, id: a.id });
      const expected = [
        { doc: DOC, id: idOf(files[0]!) },
        { doc: DOC, id: idOf(files[1]!) },
        { doc: OTHER, id: idOf(files[2]!) },
      ];
      const order = (xs: Array<{ doc: string; id: string }>) => xs.toSorted((x, y) => (x.doc + x.id).localeCompare(y.doc + y.id));
      expect(order(listed)).toEqual(order(expected));
      expect(await store.usage(DOC)).toEqual({ files: 2, bytes: 128 });
      expect(await store.get(DOC, idOf(files[0]!))).toEqual(files[0]);
    } finally {
      await cleanup();
    }
  });
});

describe('BLOB_STORE parsing', () => {
  it('takes s3://bucket/prefix and refuses anything else with a message naming the setting', () => {
    expect(parseS3Url('s3://family-files/relay/one/')).toEqual({ bucket: 'family-files', prefix: 'relay/one' });
    expect(parseS3Url('s3://family-files')).toEqual({ bucket: 'family-files', prefix: '' });
    for (const bad of ['http://x/y', 's3://', 's3://UPPER/x', 'family-files/x']) expect(() => parseS3Url(bad), bad).toThrow(/BLOB_STORE/);
  });
});

describe('relay with BLOB_STORE=s3://…', () => {
  it("keeps a member's file in S3 (ciphertext only), serves it back, and an erasure removes it there", async () => {
    const blobStore = `s3://${s3.bucket}/relay-${++prefixes}`;
    const relay = await testRelay({ blobStore, s3: s3.options });
    const owner = generateSigningKeyPair();
    const profile = await Profile.create({ signer: owner, relayUrl: relay.url });
    const view = new S3FileStore(parseS3Url(blobStore), s3.options);
    try {
      await profile.flush();
      const sealed = sealBlob(utf8('S3-CANARY discharge letter'));
      const url = `${relay.httpUrl}/blobs/${profile.name}/${sealed.id}`;
      const auth = async () => ({ Authorization: `Bearer ${await createAuthToken({ secretKey: owner.secretKey, docId: profile.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine })}` });
      const put = await fetch(url, { method: 'PUT', headers: await auth(), body: Buffer.from(sealed.ciphertext), signal: AbortSignal.timeout(10_000) });
      expect(put.status).toBe(201);
      const got = await fetch(url, { headers: await auth(), signal: AbortSignal.timeout(10_000) });
      expect(new Uint8Array(await got.arrayBuffer())).toEqual(sealed.ciphertext);
      const inS3 = await view.dumpAll();
      expect(inS3).toEqual([sealed.ciphertext]);
      expect(Buffer.concat(inS3).includes(Buffer.from('S3-CANARY'))).toBe(false);

      await profile.eraseEverywhere();
      await expect.poll(() => view.usage(profile.name), { timeout: 15_000 }).toEqual({ files: 0, bytes: 0 });
    } finally {
      await view.close();
      await profile.close().catch(() => undefined);
      await relay.destroy();
    }
  });
});

describe('FileStore with DATABASE_URL and BLOB_STORE: the metadata in PostgreSQL', () => {
  it('uploads through two instances at once (seeded) never pass the quota together', () =>
    withSeed(FILE, 'uploads through two instances', async (prng) => {
      const { location, url } = await indexedPlace();
      const stores = [await PostgresFileIndex.open(url, new S3FileStore(location, s3.options)), await PostgresFileIndex.open(url, new S3FileStore(location, s3.options))];
      try {
        const fits = prng.int(1, 5);
        const quota = { bytes: 64 * fits, files: 100 };
        const files = Array.from({ length: prng.int(fits + 2, 12) }, (_, i) => body(20 + i));
        const results = await Promise.all(files.map((f, i) => prng.pick(stores).putWithinQuota(DOC, idOf(f), f, i, quota)));
        expect(results.filter((r) => r === 'created').length, `${files.length} uploads, room for ${fits}`).toBe(fits);
        for (const store of stores) expect(await store.usage(DOC)).toEqual({ files: fits, bytes: 64 * fits });
      } finally {
        for (const store of stores) await store.close();
      }
    }));

  it('indexes a bucket filled before, once, leaving out erased documents; a body without its row is never served or counted', async () => {
    const { location, url } = await indexedPlace();
    const bucket: FileStore = new S3FileStore(location, s3.options);
    const log = await PostgresRelayStore.open(url);
    try {
      for (const f of [body(1), body(2, 100)]) await bucket.putRestored(DOC, idOf(f), f, 1);
      await bucket.putRestored(OTHER, idOf(body(3)), body(3), 1);
      await log.erase(OTHER, { erasedAt: 1, record: new Uint8Array([1]), members: new Uint8Array(32) });
      const first = await PostgresFileIndex.open(url, new S3FileStore(location, s3.options), { now: () => 5 });
      try {
        expect(await first.usage(DOC)).toEqual({ files: 2, bytes: 164 });
        expect(await first.get(DOC, idOf(body(2, 100)))).toEqual(body(2, 100));
        expect(await first.has(OTHER, idOf(body(3)))).toBe(false);
        expect(await first.get(OTHER, idOf(body(3)))).toBeUndefined();
        // Written to the bucket behind the index's back (an upload whose row never committed).
        await bucket.putRestored(DOC, idOf(body(4)), body(4), 6);
      } finally {
        await first.close();
      }
      const second = await PostgresFileIndex.open(url, new S3FileStore(location, s3.options));
      try {
        expect(await second.has(DOC, idOf(body(4)))).toBe(false);
        expect(await second.get(DOC, idOf(body(4)))).toBeUndefined();
        expect(await second.usage(DOC)).toEqual({ files: 2, bytes: 164 });
        // Uploaded properly, the same file gets its row.
        expect(await second.putWithinQuota(DOC, idOf(body(4)), body(4), 7, { bytes: 10_000, files: 10 })).toBe('created');
        expect(await second.get(DOC, idOf(body(4)))).toEqual(body(4));
      } finally {
        await second.close();
      }
    } finally {
      await log.close();
      await bucket.close();
    }
  });

  it("the log's erasure refuses the profile's files from its commit on, before their bodies are deleted", async () => {
    const { location, url } = await indexedPlace();
    const log = await PostgresRelayStore.open(url);
    const store = await PostgresFileIndex.open(url, new S3FileStore(location, s3.options));
    try {
      await store.putWithinQuota(DOC, idOf(body(1)), body(1), 1, { bytes: 10_000, files: 10 });
      await log.erase(DOC, { erasedAt: 2, record: new Uint8Array([1]), members: new Uint8Array(32) });
      expect(await store.get(DOC, idOf(body(1)))).toBeUndefined();
      expect(await store.usage(DOC)).toEqual({ files: 0, bytes: 0 });
      expect((await store.dumpAll()).length).toBe(1); // the body is still in the bucket here
      await store.eraseDocument(DOC);
      expect(await store.dumpAll()).toEqual([]);
    } finally {
      await store.close();
      await log.close();
    }
  });
});
