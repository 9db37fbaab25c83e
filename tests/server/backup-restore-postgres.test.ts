/**
 * Backup and restore with DATABASE_URL: the envelope log, tombstones and SMART Health Links in
 * PostgreSQL, files in DATA_DIR's relay.sqlite. As docs/operations.md tells the operator, while
 * the relay runs: `pg_dump --format=custom` of the database, then `npm run relay -- backup FILE`
 * (database first, files second: every file a dumped record names is then in the file backup);
 * stop the relay; wipe both; `createdb` + `pg_restore`, `npm run relay -- restore FILE`,
 * `npm run relay -- reapply-erasures $ERASURE_JOURNAL`; start it.
 * The PostgreSQL tools run as the server's user, like tests/helpers/postgres.ts.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupRestoreDrill, relayCommand } from '../helpers/backup-drill.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/relay.ts';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.destroy();
});
const cleanups = cleanupList();

describe('backup and restore: PostgreSQL (DATABASE_URL) with files in DATA_DIR', () => {
  it('pg_dump while live, dropdb, createdb and pg_restore: devices resend what came after it; erasures in the dump and the journal hold', { timeout: 300_000 }, async () => {
    const databaseUrl = await postgres.database('backup_drill');
    const server = ['--host=127.0.0.1', `--port=${postgres.port}`, '--username=postgres'];
    const dump = join(postgres.directory, 'relay.dump'); // written by the postgres user
    const backups = tempDir('fhv-backups-');
    cleanups.push(() => backups.remove());
    const files = join(backups.path, 'relay-files.sqlite');
    const result = await backupRestoreDrill(
      {
        config: { databaseUrl },
        losesEnvelopes: true,
        async backup(env) {
          await postgres.tool('pg_dump', ['--format=custom', `--file=${dump}`, `--dbname=${databaseUrl}`]);
          await relayCommand(['backup', files], { ...env, DATABASE_URL: databaseUrl });
        },
        async wipe(env) {
          await postgres.tool('dropdb', [...server, '--force', 'backup_drill']);
          rmSync(env.DATA_DIR!, { recursive: true, force: true });
        },
        async restore(env) {
          await postgres.tool('createdb', [...server, 'backup_drill']);
          await postgres.tool('pg_restore', ['--exit-on-error', '--no-owner', `--dbname=${databaseUrl}`, dump]);
          const restored = await relayCommand(['restore', files], { ...env, DATABASE_URL: databaseUrl });
          return restored + (await relayCommand(['reapply-erasures', env.ERASURE_JOURNAL!], { ...env, DATABASE_URL: databaseUrl }));
        },
      },
      cleanups,
    );
    expect(result.restoreOutput).toMatch(/^restored the relay database.*\nre-applied 1 erasures \(1 already in the store\)\n$/);
    // The erasure after the dump came back from the journal: the profile is refused, its file (in DATA_DIR) gone again.
    expect(result.erasedAfter).toMatchObject({ refusal: 'PROFILE_ERASED', fileStatus: 410 });
  });
});
