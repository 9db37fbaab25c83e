/**
 * Backups of DATA_DIR's SQLite database (docs/operations.md "Backups and restores"), for
 * `npm run relay -- backup FILE` and `npm run relay -- restore FILE` (server/admin.ts).
 *
 * Backup runs beside a live relay: SQLite's online backup API (node:sqlite `backup`) copies one
 * consistent snapshot, the WAL's committed transactions included, page by page, and lets the
 * relay keep writing meanwhile. The copy goes to FILE.partial, passes `integrity_check`, and only
 * then is renamed to FILE: a backup that stopped halfway never looks like a backup.
 *
 * Restore is for a stopped relay and an empty place: a stale `relay.sqlite-wal` beside a restored
 * file would be replayed into it by the next start and corrupt it, so restore refuses while any
 * of `relay.sqlite`, `-wal` or `-shm` is there. The backup is copied, checked as a copy (the
 * backup file itself is never opened for writing), and renamed into place.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { backup, DatabaseSync } from 'node:sqlite';
import { ENVELOPE_DB_FILE } from '../src/lib/storage/sqlite-log.ts';
import { RelayBackupError } from './errors.ts';

/** Tables only the relay makes (envelope log, tombstones, files, links): one of them marks its database. */
const RELAY_TABLES = ['documents', 'updates', 'client_owners', 'tombstones', 'blobs', 'shl_links'];
const SIDE_FILES = ['', '-wal', '-shm'];
/**
 * Pages per backup step: all of them, in one step, i.e. one read transaction. In steps of the
 * default 100 pages, SQLite restarts the backup whenever another connection writes between two
 * steps, so against a relay that keeps writing it never finished (backup-commands.test.ts). In
 * WAL mode one long read does not block the relay's writes; the WAL just grows until it ends.
 */
const ALL_PAGES = 2 ** 31 - 1;

const refused = (message: string) => new RelayBackupError('RELAY_BACKUP_REFUSED', message);
const unreadable = (message: string) => new RelayBackupError('RELAY_BACKUP_UNREADABLE', message);

/** Copies the relay's database (live or stopped) to `target`, a file that must not exist yet. */
export async function backupDatabase(dataDir: string, target: string): Promise<{ bytes: number }> {
  const source = join(dataDir, ENVELOPE_DB_FILE);
  const partial = `${target}.partial`;
  if (existsSync(target) || existsSync(partial)) throw refused('the backup file already exists: name a new one');
  if (!isDirectory(dirname(resolve(target)))) throw refused("the backup file's directory does not exist");
  if (!existsSync(source)) throw unreadable('the data dir holds no relay database (relay.sqlite)');
  const db = openRelayDatabase(source, { check: false }); // the copy is checked below
  try {
    await backup(db, partial, { rate: ALL_PAGES });
  } catch (e) {
    removeDatabase(partial);
    throw unreadable(`the relay database could not be read (${sqliteCode(e)})`);
  } finally {
    db.close();
  }
  try {
    openRelayDatabase(partial).close();
  } catch (e) {
    removeDatabase(partial);
    throw e;
  }
  renameSync(partial, target);
  return { bytes: statSync(target).size };
}

/** Puts a backup made by `backupDatabase` in place as `dataDir`'s database; the relay must be stopped and the place empty. */
export function restoreDatabase(backupFile: string, dataDir: string): { bytes: number } {
  const target = join(dataDir, ENVELOPE_DB_FILE);
  const partial = `${target}.partial`;
  if (SIDE_FILES.some((suffix) => existsSync(target + suffix))) {
    throw refused('the data dir already has a relay database (relay.sqlite, -wal or -shm): stop the relay and move those files away first');
  }
  if (!existsSync(backupFile) || !statSync(backupFile).isFile()) throw unreadable('the backup file does not exist');
  const made = mkdirSync(dataDir, { recursive: true });
  removeDatabase(partial);
  copyFileSync(backupFile, partial);
  try {
    openRelayDatabase(partial).close();
  } catch (e) {
    removeDatabase(partial);
    if (made) rmSync(made, { recursive: true, force: true }); // the data dir did not exist: leave none
    throw e;
  }
  renameSync(partial, target);
  return { bytes: statSync(target).size };
}

/**
 * Opens `path` and checks it is a sound relay database: SQLite's `integrity_check` says ok (unless
 * `check` is false) and it has one of the relay's tables. Throws RELAY_BACKUP_UNREADABLE otherwise
 * (the connection closed).
 */
function openRelayDatabase(path: string, o: { check: boolean } = { check: true }): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path);
    db.exec('PRAGMA busy_timeout = 5000');
    const check = o.check ? (db.prepare('PRAGMA integrity_check').all() as Array<Record<string, unknown>>) : [{ ok: 'ok' }];
    const sound = check.length === 1 && Object.values(check[0]!)[0] === 'ok';
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    if (!sound) throw unreadable('the database fails SQLite’s integrity check');
    if (!tables.some((t) => RELAY_TABLES.includes(t))) throw unreadable('the file is an SQLite database but not a relay’s');
    return db;
  } catch (e) {
    if (db?.isOpen) db.close();
    if (e instanceof RelayBackupError) throw e;
    throw unreadable(`the file is not a readable SQLite database (${sqliteCode(e)})`);
  }
}

/** The database file and the WAL and shared-memory files SQLite may have left beside it. */
function removeDatabase(path: string): void {
  for (const suffix of SIDE_FILES) rmSync(path + suffix, { force: true });
}

function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** SQLite's error name (never a path or a value from the file). */
function sqliteCode(e: unknown): string {
  const errstr = (e as { errstr?: unknown } | null)?.errstr;
  return typeof errstr === 'string' ? errstr : 'error';
}
