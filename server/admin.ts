/**
 * `npm run relay -- <command>`: the operator's backup and restore commands (docs/operations.md
 * "Backups and restores"). They read the relay's own settings (DATA_DIR, DATABASE_URL,
 * BLOB_STORE, S3_ENDPOINT, AWS_*), print one line of counts on stdout, and on a refusal print
 * `[relay] CODE: message` on stderr and exit 1 having written nothing.
 *
 *   backup FILE          DATA_DIR's relay.sqlite to FILE, while the relay runs (online backup)
 *   restore FILE         FILE as DATA_DIR's relay.sqlite; relay stopped, no relay.sqlite* there
 *   backup-files DIR     every document file (DATA_DIR or BLOB_STORE) not yet in DIR
 *   restore-files DIR    DIR's files back into the file store, except erased profiles'
 *   reapply-erasures FILE   every erasure in the journal (ERASURE_JOURNAL) the restored store lacks
 *
 * With DATABASE_URL, the envelope log is backed up with pg_dump instead; DATA_DIR's database then
 * holds document files (without BLOB_STORE) and SMART Health Links, and `backup` covers them.
 */
import { CodedError } from '../src/lib/errors.ts';
import { backupDatabase, restoreDatabase } from './backup.ts';
import { backupFiles, restoreFiles } from './backup-files.ts';
import { configFromEnv, type RelayConfig } from './config.ts';
import type { FileStore } from './storage/file-store.ts';
import type { RelayStore } from './storage/relay-store.ts';
import { RelayBackupError } from './errors.ts';
import { erasingFiles, openFileStore, openRelayStore } from './storage/open-store.ts';
import { readJournal, reapplyErasures } from './erasure-journal.ts';
import { createNodeCryptoEngine } from '../src/lib/crypto/ed25519-node.ts';

const USAGE = 'usage: npm run relay -- backup FILE | restore FILE | backup-files DIR | restore-files DIR | reapply-erasures FILE';

async function run(args: readonly string[]): Promise<string> {
  const [command, path, ...extra] = args;
  if (!command || !path || extra.length > 0) throw new RelayBackupError('RELAY_BACKUP_REFUSED', USAGE);
  const config = configFromEnv(process.env);
  switch (command) {
    case 'backup': {
      const { bytes } = await backupDatabase(config.dataDir, path);
      return `backed up the relay database (${bytes} bytes)`;
    }
    case 'restore': {
      const { bytes } = restoreDatabase(path, config.dataDir);
      return `restored the relay database (${bytes} bytes)`;
    }
    case 'backup-files': {
      const files = await openFileStore(config);
      try {
        const { copied, kept } = await backupFiles(files, path);
        return `backed up ${copied} new document files (${kept} already in the backup)`;
      } finally {
        await files.close();
      }
    }
    case 'restore-files':
      return withStores(config, async (files, store) => {
        const { restored, erased } = await restoreFiles(path, files, store);
        return `restored ${restored} document files (${erased} left out: their profiles were erased)`;
      });
    case 'reapply-erasures': {
      const entries = await readJournal(path, createNodeCryptoEngine()); // all checked before a store opens
      return withStores(config, async (files, store) => {
        const { applied, already } = await reapplyErasures(entries, erasingFiles(store, files));
        return `re-applied ${applied} erasures (${already} already in the store)`;
      });
    }
    default:
      throw new RelayBackupError('RELAY_BACKUP_REFUSED', USAGE);
  }
}

/** Runs `task` with the relay's file store and envelope store open, and closes both. */
async function withStores<T>(config: RelayConfig, task: (files: FileStore, store: RelayStore) => Promise<T>): Promise<T> {
  const files = await openFileStore(config);
  const { store } = await openRelayStore(config);
  try {
    return await task(files, store);
  } finally {
    await Promise.allSettled([files.close(), store.close()]);
  }
}

try {
  console.log(await run(process.argv.slice(2)));
  process.exit(0);
} catch (e) {
  // A typed refusal says what to do; anything else (S3 or PostgreSQL unreachable) by its code only.
  const code = e instanceof CodedError ? e.code : ((e as { code?: unknown; name?: unknown } | null)?.code ?? (e as { name?: unknown } | null)?.name ?? 'error');
  console.error(`[relay] ${String(code)}: ${e instanceof CodedError ? e.message : 'the command failed; nothing more was written'}`);
  process.exit(1);
}
