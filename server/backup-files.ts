/**
 * Backups of the relay's document files, from and to whichever FileStore it runs on (DATA_DIR's
 * SQLite file or `BLOB_STORE=s3://…`), for `npm run relay -- backup-files DIR` and
 * `npm run relay -- restore-files DIR` (server/admin.ts, docs/operations.md).
 *
 * A files backup is a directory `DIR/<doc>/<id>` of ciphertext bodies. Files are content-addressed
 * and never change, so a backup is incremental: a file already in DIR is the same bytes and is
 * not fetched again; each new one is written to `<id>.partial` and renamed once complete.
 *
 * Restore checks every file before it writes any (a name that is not `<doc>/<id>` or bytes that do
 * not hash to the id: RELAY_BACKUP_UNREADABLE, nothing restored), and leaves out the files of
 * every document the relay's store holds a tombstone for: an erasure made after the files backup
 * must not bring an erased profile's files back.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBase64Url } from '../src/lib/crypto/index.ts';
import { isFileAddress } from './blobs.ts';
import { RelayBackupError } from './errors.ts';
import type { FileAddress, FileStore } from './storage/file-store.ts';
import type { RelayStore } from './storage/relay-store.ts';

const PARTIAL = '.partial';
const idOf = (body: Uint8Array) => toBase64Url(createHash('sha256').update(body).digest());
const unreadable = (message: string) => new RelayBackupError('RELAY_BACKUP_UNREADABLE', message);

/**
 * Copies every stored file not yet in `dir` there. A file the store still lists but whose body
 * it no longer has (the bucket lost it behind the PostgreSQL index) is not a success: the rest
 * is copied, then RELAY_BACKUP_INCOMPLETE says how many are gone. A file erased while the backup
 * runs is neither listed by `has` nor counted.
 */
export async function backupFiles(files: FileStore, dir: string): Promise<{ copied: number; kept: number }> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new RelayBackupError('RELAY_BACKUP_REFUSED', 'the files backup must be a directory');
  let copied = 0;
  let kept = 0;
  let lost = 0;
  for await (const { doc, id } of files.list()) {
    if (!isFileAddress(doc, id)) continue; // not a relay file (something else under the prefix)
    const path = join(dir, doc, id);
    if (existsSync(path)) {
      kept++;
      continue;
    }
    // The S3 store checks a read against its id itself (FILE_STORE_CORRUPT): the same damage.
    const body = await files.get(doc, id).catch((e: unknown) => {
      throw (e as { code?: unknown } | null)?.code === 'FILE_STORE_CORRUPT' ? unreadable('a stored file does not hash to its id: the file store is damaged') : e;
    });
    if (!body) {
      // Erased since it was listed, or lost by the store while it still lists it.
      if (await files.has(doc, id)) lost++;
      continue;
    }
    if (idOf(body) !== id) throw unreadable('a stored file does not hash to its id: the file store is damaged');
    mkdirSync(join(dir, doc), { recursive: true });
    writeFileSync(path + PARTIAL, body);
    renameSync(path + PARTIAL, path);
    copied++;
  }
  if (lost > 0) {
    throw new RelayBackupError(
      'RELAY_BACKUP_INCOMPLETE',
      `copied ${copied} new document files (${kept} already in the backup), but ${lost} listed by the file index have no body in the file store: it lost them, and the backup has no copy`,
    );
  }
  return { copied, kept };
}

/** Puts every file of `dir` back into `files`, except erased documents' (their tombstone is in `store`). */
export async function restoreFiles(dir: string, files: FileStore, store: Pick<RelayStore, 'tombstone'>, now = Date.now()): Promise<{ restored: number; erased: number }> {
  const entries = filesIn(dir);
  for (const { doc, id } of entries) if (idOf(readFileSync(join(dir, doc, id))) !== id) throw unreadable('a file in the backup does not hash to its name: nothing was restored');
  const erasedDocs = new Set<string>();
  for (const doc of new Set(entries.map((e) => e.doc))) if (await store.tombstone(doc)) erasedDocs.add(doc);
  let restored = 0;
  let erased = 0;
  for (const { doc, id } of entries) {
    if (erasedDocs.has(doc)) {
      erased++;
      continue;
    }
    const body = readFileSync(join(dir, doc, id));
    if (idOf(body) !== id) throw unreadable('a file in the backup changed while it was restored');
    await files.putRestored(doc, id, body, now);
    restored++;
  }
  return { restored, erased };
}

/** Every `<doc>/<id>` in a files backup; a leftover `.partial` (a backup that stopped) is skipped, anything else refused. */
function filesIn(dir: string): FileAddress[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw unreadable('the files backup directory does not exist');
  const out: FileAddress[] = [];
  for (const doc of readdirSync(dir)) {
    const docDir = join(dir, doc);
    if (!statSync(docDir).isDirectory()) throw unreadable('the files backup holds something that is not a document folder');
    for (const id of readdirSync(docDir)) {
      if (id.endsWith(PARTIAL)) continue;
      if (!isFileAddress(doc, id) || !statSync(join(docDir, id)).isFile()) throw unreadable('the files backup holds something that is not a relay file');
      out.push({ doc, id });
    }
  }
  return out;
}
