/**
 * Backup and restore of the default store, DATA_DIR's relay.sqlite (envelope log, tombstones,
 * files, links), exactly as docs/operations.md tells the operator: `npm run relay -- backup FILE`
 * while the relay runs; stop it; wipe; `npm run relay -- restore FILE` and
 * `npm run relay -- reapply-erasures $ERASURE_JOURNAL`; start it. The drill
 * (tests/helpers/backup-drill.ts) checks that clients resync to equal replicas holding every edit.
 * Run once more without re-applying the journal: the erasure made after the backup is undone.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupRestoreDrill, relayCommand, type StoreDrill } from '../helpers/backup-drill.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { tempDir } from '../helpers/relay.ts';

const cleanups = cleanupList();

function sqliteDrill(o: { reapply: boolean }): StoreDrill {
  const backups = tempDir('fhv-backups-');
  cleanups.push(() => backups.remove());
  const file = join(backups.path, 'relay-backup.sqlite');
  return {
    config: {},
    losesEnvelopes: true,
    backup: async (env) => void expect(await relayCommand(['backup', file], env)).toMatch(/^backed up the relay database/),
    wipe: async (env) => rmSync(env.DATA_DIR!, { recursive: true, force: true }),
    async restore(env) {
      const restored = await relayCommand(['restore', file], env);
      return o.reapply ? restored + (await relayCommand(['reapply-erasures', env.ERASURE_JOURNAL!], env)) : restored;
    },
  };
}

describe('backup and restore: SQLite (DATA_DIR)', () => {
  it('a live backup restored into a wiped data dir: devices resend what came after it; erasures before it and in the journal hold', { timeout: 300_000 }, async () => {
    const result = await backupRestoreDrill(sqliteDrill({ reapply: true }), cleanups);
    // Both erasures are in the journal; the one before the backup is in the backup too.
    expect(result.restoreOutput).toMatch(/^restored the relay database.*\nre-applied 1 erasures \(1 already in the store\)\n$/);
    expect(result.erasedAfter).toMatchObject({ refusal: 'PROFILE_ERASED', fileStatus: 410 });
  });

  it('without re-applying the erasure journal, a profile erased after the backup is served again', { timeout: 300_000 }, async () => {
    const result = await backupRestoreDrill(sqliteDrill({ reapply: false }), cleanups);
    expect(result.erasedAfter).toMatchObject({ refusal: null, note: 'erased after the backup', fileStatus: 200 });
  });
});
