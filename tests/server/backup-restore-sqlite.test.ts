/**
 * Backup and restore of the default store, DATA_DIR's relay.sqlite (envelope log, tombstones,
 * files, links), exactly as docs/operations.md tells the operator: `npm run relay -- backup FILE`
 * while the relay runs; stop it; wipe; `npm run relay -- restore FILE`; start it. The drill
 * (tests/helpers/backup-drill.ts) checks that clients resync to equal replicas holding every edit.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupRestoreDrill, relayCommand } from '../helpers/backup-drill.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { tempDir } from '../helpers/relay.ts';

const cleanups = cleanupList();

describe('backup and restore: SQLite (DATA_DIR)', () => {
  it('a live backup restored into a wiped data dir: devices resend what came after it; erasures in the backup hold', { timeout: 300_000 }, async () => {
    const backups = tempDir('fhv-backups-');
    cleanups.push(() => backups.remove());
    const file = join(backups.path, 'relay-backup.sqlite');
    const result = await backupRestoreDrill(
      {
        config: {},
        losesEnvelopes: true,
        backup: async (env) => void expect(await relayCommand(['backup', file], env)).toMatch(/^backed up the relay database/),
        wipe: async (env) => rmSync(env.DATA_DIR!, { recursive: true, force: true }),
        restore: (env) => relayCommand(['restore', file], env),
      },
      cleanups,
    );
    expect(result.restoreOutput).toMatch(/^restored the relay database/);
    // An erasure after the backup is undone by the restore: the profile and its file are served
    // again to a member (docs/operations.md says so, and what to do about it).
    expect(result.erasedAfter).toMatchObject({ refusal: null, note: 'erased after the backup', fileStatus: 200 });
  });
});
