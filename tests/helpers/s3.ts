/**
 * An S3-compatible server for tests (s3rver, in this process, on a free loopback port, files in
 * a temp dir) and the options the relay needs to reach it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3FileStoreOptions } from '../../server/storage/s3-file-store.ts';

export interface TestS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly options: S3FileStoreOptions;
  /** Every file the server holds on disk, for canary scans. */
  readonly directory: string;
  close(): Promise<void>;
}

export async function startS3(bucket = 'fhv-files'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'fhv-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    options: { endpoint, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, timeoutMs: 10_000 },
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
