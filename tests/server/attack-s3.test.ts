/**
 * Attacking the S3 file store (decision 0049) on a real S3-compatible server (s3rver):
 *   - seeded hostile document and file names (traversal, separators, encodings, control and
 *     unicode characters, another document's name or a prefix of it, empty, too long) reach no
 *     object outside their document's prefix, in the bucket or on the server's disk, and never
 *     touch, count or erase another document's files: the store refuses them with
 *     FILE_STORE_BAD_NAME before any request;
 *   - a file changed in the bucket is never served as the file: the store's read checks the
 *     bytes against the id (FILE_STORE_CORRUPT) and the route answers 500 BLOB_RELAY_FAILED
 *     (threat model 99).
 * Seeded: TEST_SEED=<n> npx vitest run tests/server/attack-s3.test.ts
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, nobleEngine, toBase64Url, utf8 } from '../../src/lib/crypto/index.ts';
import { createAuthToken } from '../../src/lib/protocol/index.ts';
import { sealBlob } from '../../src/lib/vault/blobs.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { parseS3Url, S3FileStore } from '../../server/storage/s3-file-store.ts';
import fixture from '../fixtures/attack/s3-names.json' with { type: 'json' };
import { withSeed, type Prng } from '../helpers/prng.ts';
import { testRelay } from '../helpers/relay.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

const FILE = 'tests/server/attack-s3.test.ts';
let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

const VICTIM = 'VVVVVVVVVVVVVVVVVVVVVV';
const quota = { bytes: 10_000_000, files: 1000 };
const idOf = (data: Uint8Array) => toBase64Url(createHash('sha256').update(data).digest());
const VALID = /^[A-Za-z0-9_-]{1,64}$/;

function hostileName(prng: Prng): string {
  const parts = ['..', '.', '/', '//', '%2F', '%2e%2e', '\\', '\u0000', ' ', '\n', 'é', '🩺', '?', '#', '*', VICTIM, VICTIM.slice(0, 8), 'tenant', prng.word(), toBase64Url(prng.bytes(prng.int(1, 40)))];
  const roll = prng.next();
  if (roll < 0.1) return '';
  if (roll < 0.2) return 'A'.repeat(prng.pick([64, 65, 200]));
  return Array.from({ length: prng.int(1, 5) }, () => prng.pick(parts)).join('');
}

const raw = () => new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.options.credentials!, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });

async function bucketKeys(client: S3Client): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, ContinuationToken: token }), { abortSignal: AbortSignal.timeout(10_000) });
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

function filesOnDisk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => relative(s3.directory, join(e.parentPath, e.name)));
}

describe('S3 file store under hostile names and a tampered bucket', () => {
  it('no name reaches an object outside its document, touches another document, or escapes the bucket', { timeout: 120_000 }, async () => {
    await withSeed(FILE, 'no name reaches an object outside', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "no name reaches an object outside"`);
      const prefix = `tenant-${prng.seed % 100_000}`;
      const store = new S3FileStore(parseS3Url(`s3://${s3.bucket}/${prefix}`), s3.options);
      const client = raw();
      try {
        const victimFile = utf8(`victim file ${prng.seed}`);
        expect(await store.putWithinQuota(VICTIM, idOf(victimFile), victimFile, 0, quota)).toBe('created');
        const nested = `${VICTIM}x`; // a document whose name starts with the victim's
        const nestedFile = utf8('nested');
        expect(await store.putWithinQuota(nested, idOf(nestedFile), nestedFile, 0, quota)).toBe('created');
        let refused = 0;
        for (let i = 0; i < 60; i++) {
          const doc = prng.bool(0.3) ? VICTIM : hostileName(prng);
          const data = prng.bytes(prng.int(1, 32));
          const id = prng.bool(0.2) ? idOf(data) : hostileName(prng);
          // The victim's own files are never put or erased here: only read, counted and named.
          const ops: Array<[usesId: boolean, run: () => Promise<unknown>]> = [
            [true, () => store.has(doc, id)],
            [true, () => store.get(doc, id)],
            [false, () => store.usage(doc)],
            [false, () => store.fits(doc, 1, quota)],
          ];
          if (doc !== VICTIM) ops.push([true, () => store.putWithinQuota(doc, id, data, 0, quota)], [false, () => store.eraseDocument(doc)]);
          for (const [usesId, run] of ops) {
            const outcome = await run().then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');
            if (process.env.ATTACK_EFFECTS_ONLY) continue; // (to see what an unguarded store does)
            if (!VALID.test(doc) || (usesId && !VALID.test(id))) {
              expect(outcome, `doc ${JSON.stringify(doc)} id ${JSON.stringify(id)}`).toBe('FILE_STORE_BAD_NAME');
              refused++;
            } else expect(['ok', 'FILE_STORE_CORRUPT'], `doc ${JSON.stringify(doc)} id ${JSON.stringify(id)}`).toContain(outcome);
          }
        }
        if (!process.env.ATTACK_EFFECTS_ONLY) expect(refused).toBeGreaterThan(0);
        // Effects: every object is <prefix>/<name>/<name>; the victim's and the nested document's files are intact.
        for (const key of await bucketKeys(client)) {
          if (!key.startsWith(`${prefix}/`)) continue;
          const [, doc, id, ...rest] = key.split('/');
          expect(rest, key).toEqual([]);
          expect(doc, key).toMatch(VALID);
          expect(id, key).toMatch(VALID);
        }
        expect(await store.get(VICTIM, idOf(victimFile))).toEqual(victimFile);
        expect(await store.usage(VICTIM)).toEqual({ files: 1, bytes: victimFile.length });
        expect(await store.get(nested, idOf(nestedFile))).toEqual(nestedFile);
        await store.eraseDocument(VICTIM);
        expect(await store.get(nested, idOf(nestedFile)), 'erasing one document leaves the one whose name extends it').toEqual(nestedFile);
        // On the server's disk nothing lies outside the bucket's directory.
        for (const f of filesOnDisk(s3.directory)) expect(f.startsWith(`${s3.bucket}/`), f).toBe(true);
      } finally {
        client.destroy();
        await store.close();
      }
    });
  });

  it('every kept hostile name (fixture s3-names.json) is refused by every operation', async () => {
    const store = new S3FileStore(parseS3Url(`s3://${s3.bucket}/fixture`), s3.options);
    try {
      for (const name of fixture.names) {
        for (const run of [() => store.has(name, 'AAAA'), () => store.has('AAAA', name), () => store.get('AAAA', name), () => store.usage(name), () => store.eraseDocument(name), () => store.putWithinQuota('AAAA', name, utf8('x'), 0, quota)]) {
          await expect(run(), JSON.stringify(name)).rejects.toMatchObject({ code: 'FILE_STORE_BAD_NAME' });
        }
      }
      expect((await bucketKeys(raw())).filter((k) => k.startsWith('fixture/'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a file changed in the bucket is refused by the store and never served by the route', { timeout: 60_000 }, async () => {
    const blobStore = `s3://${s3.bucket}/tampered`;
    const relay = await testRelay({ blobStore, s3: s3.options });
    const owner = generateSigningKeyPair();
    const profile = await Profile.create({ signer: owner, relayUrl: relay.url });
    const store = new S3FileStore(parseS3Url(blobStore), s3.options);
    const client = raw();
    try {
      await profile.flush();
      const sealed = sealBlob(utf8('a discharge letter'));
      const url = `${relay.httpUrl}/blobs/${profile.name}/${sealed.id}`;
      const auth = async () => ({ Authorization: `Bearer ${await createAuthToken({ secretKey: owner.secretKey, docId: profile.access.docId, expiresAt: Date.now() + 60_000, engine: nobleEngine })}` });
      expect((await fetch(url, { method: 'PUT', headers: await auth(), body: Buffer.from(sealed.ciphertext), signal: AbortSignal.timeout(10_000) })).status).toBe(201);
      const forged = Uint8Array.from(sealed.ciphertext);
      forged[forged.length - 1]! ^= 1;
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `tampered/${profile.name}/${sealed.id}`, Body: forged }), { abortSignal: AbortSignal.timeout(10_000) });
      await expect(store.get(profile.name, sealed.id)).rejects.toMatchObject({ code: 'FILE_STORE_CORRUPT' });
      const got = await fetch(url, { headers: await auth(), signal: AbortSignal.timeout(10_000) });
      expect(got.status).toBe(500);
      expect(await got.text()).toBe('BLOB_RELAY_FAILED');
    } finally {
      client.destroy();
      await store.close();
      await profile.close().catch(() => undefined);
      await relay.destroy();
    }
  });
});
