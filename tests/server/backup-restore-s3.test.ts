/**
 * Backup and restore of document files in S3 (BLOB_STORE=s3://bucket/prefix; the envelope log
 * stays in DATA_DIR and is not lost here). As docs/operations.md tells the operator:
 * `npm run relay -- backup-files DIR` while the relay runs (incremental: files never change, so
 * one already in DIR is not fetched again); the bucket is emptied; with the relay stopped,
 * `npm run relay -- restore-files DIR`, which leaves out the files of every profile erased since
 * (its tombstone is in the envelope store); start the relay.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { parseS3Url, S3FileStore } from '../../server/storage/s3-file-store.ts';
import { backupRestoreDrill, relayCommand } from '../helpers/backup-drill.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { tempDir } from '../helpers/relay.ts';
import { startS3, type TestS3 } from '../helpers/s3.ts';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});
const cleanups = cleanupList();

describe('backup and restore: document files in S3 (BLOB_STORE)', () => {
  it('files copied out while live, the bucket emptied, copied back: files in the backup open again, erased profiles stay without theirs', { timeout: 300_000 }, async () => {
    const blobStore = `s3://${s3.bucket}/drill`;
    // What the operator exports for the relay and for `npm run relay -- …` alike.
    const s3Env = { BLOB_STORE: blobStore, S3_ENDPOINT: s3.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    const bucket = new S3FileStore(parseS3Url(blobStore), s3.options);
    cleanups.push(() => bucket.close());
    const backups = tempDir('fhv-file-backups-');
    cleanups.push(() => backups.remove());
    const result = await backupRestoreDrill(
      {
        config: { blobStore, s3: s3.options },
        losesEnvelopes: false,
        async backup(env) {
          // The main profile's file and the one of the profile erased later; not the one erased before.
          expect(await relayCommand(['backup-files', backups.path], { ...env, ...s3Env })).toMatch(/^backed up 2 new document files \(0 already/);
          expect(await relayCommand(['backup-files', backups.path], { ...env, ...s3Env })).toMatch(/^backed up 0 new document files \(2 already/);
        },
        async wipe() {
          for await (const { doc } of bucket.list()) await bucket.eraseDocument(doc);
          expect(await bucket.dumpAll()).toEqual([]);
        },
        restore: (env) => relayCommand(['restore-files', backups.path], { ...env, ...s3Env }),
      },
      cleanups,
    );
    expect(result.restoreOutput).toMatch(/^restored 1 document files \(1 left out: their profiles were erased\)/);
    // The erasure after the backup holds: its tombstone is in the envelope store, so its file was not put back.
    expect(result.erasedAfter).toMatchObject({ refusal: 'PROFILE_ERASED', fileStatus: 410 });
    expect(await bucket.usage(result.erasedAfter.name)).toEqual({ files: 0, bytes: 0 });
  });
});
