/**
 * The erasure journal (`ERASURE_JOURNAL=/path`, docs/operations.md, decision 0052): a restore of
 * the envelope store to a time before an erasure brings the erased profile back, and its owner's
 * devices have dropped it, so nobody can erase it again. With the journal, the relay appends every
 * tombstone it writes to a file kept apart from DATA_DIR and the database (one JSON line, flushed
 * to disk before the next), and `npm run relay -- reapply-erasures FILE` (server/admin.ts) writes
 * the ones a restored store lacks back into it, deleting the profile's log, files and links again.
 *
 * A line holds what the tombstone holds: the document's random name, the time, the owner's signed
 * erase order and hashes of the members' keys. No health data, no keys. Each line is checked
 * before anything is applied: an erase record, for that document, validly signed, at the line's
 * time; one bad line and nothing is applied. Whether its signer was an owner cannot be checked
 * here (the profile may be gone from the restored store): keep the file as safe as the backups.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { bytesEqual, fromBase64Url, toBase64Url, type Ed25519Engine } from '../src/lib/crypto/index.ts';
import { decodeEraseExt, isEraseRecord, parseRecord, verifyRecord } from '../src/lib/protocol/index.ts';
import type { RelayLogger } from './log.ts';
import { RelayBackupError } from './errors.ts';
import { docIdFromName } from './registry.ts';
import { delegateStore, type RelayStore, type Tombstone } from './storage/relay-store.ts';

export interface JournalEntry {
  readonly name: string;
  readonly tombstone: Tombstone;
}

/** Appends one tombstone as a line and flushes it to disk. */
export function appendToJournal(path: string, entry: JournalEntry): void {
  const { name, tombstone } = entry;
  const line = JSON.stringify({ v: 1, name, erasedAt: tombstone.erasedAt, record: toBase64Url(tombstone.record), members: toBase64Url(tombstone.members) });
  const fd = openSync(path, 'a', 0o600);
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * The store with each committed erasure also journaled. A journal that cannot be written does not
 * undo or fail the erasure (it happened); it is logged for the operator.
 */
export function journaling(store: RelayStore, path: string, log: RelayLogger): RelayStore {
  return {
    ...delegateStore(store),
    async erase(name, tombstone) {
      await store.erase(name, tombstone);
      try {
        appendToJournal(path, { name, tombstone });
      } catch (e) {
        log('error', 'erasure_journal_failed', { code: String((e as { code?: unknown }).code ?? 'error') });
      }
    },
  };
}

const unreadable = (line: number, why: string) => new RelayBackupError('RELAY_BACKUP_UNREADABLE', `erasure journal line ${line}: ${why}; nothing was applied`);

/**
 * Every entry of a journal, each checked (see above). A last line without its newline (the relay
 * stopped while writing it) is left out; any other bad line refuses the whole journal.
 */
export async function readJournal(path: string, engine: Ed25519Engine): Promise<JournalEntry[]> {
  if (!existsSync(path)) throw new RelayBackupError('RELAY_BACKUP_UNREADABLE', 'the erasure journal does not exist');
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop(); // after the last newline: empty, or a line the relay did not finish
  const entries: JournalEntry[] = [];
  for (const [i, text] of lines.entries()) entries.push(await checkedLine(text, i + 1, engine));
  return entries;
}

async function checkedLine(text: string, n: number, engine: Ed25519Engine): Promise<JournalEntry> {
  let line: { v?: unknown; name?: unknown; erasedAt?: unknown; record?: unknown; members?: unknown };
  let record: Uint8Array;
  let members: Uint8Array;
  try {
    line = JSON.parse(text) as typeof line;
    if (line.v !== 1 || typeof line.name !== 'string' || typeof line.record !== 'string' || typeof line.members !== 'string') throw new Error();
    record = fromBase64Url(line.record);
    members = fromBase64Url(line.members);
  } catch {
    throw unreadable(n, 'not a journal line');
  }
  const docId = docIdFromName(line.name);
  if (!docId) throw unreadable(n, 'not a document name');
  if (members.length % 32 !== 0) throw unreadable(n, 'the member hashes are malformed');
  const parsed = parseRecord(record);
  if (!parsed.ok || !isEraseRecord(parsed.value)) throw unreadable(n, 'not an erase record');
  if (!bytesEqual(parsed.value.header.docId, docId)) throw unreadable(n, 'the erase record is for another document');
  const order = decodeEraseExt(parsed.value.header.ext);
  if (!order.ok || order.value.erasedAt !== line.erasedAt) throw unreadable(n, 'the erase time does not match the record');
  if (!(await verifyRecord(parsed.value, engine)).ok) throw unreadable(n, 'the erase record is not validly signed');
  return { name: line.name, tombstone: { erasedAt: order.value.erasedAt, record, members } };
}

/** Erases again, through `store` (log, files, links), every journaled document the store holds no tombstone for. */
export async function reapplyErasures(entries: readonly JournalEntry[], store: Pick<RelayStore, 'erase' | 'tombstone'>): Promise<{ applied: number; already: number }> {
  let applied = 0;
  let already = 0;
  const done = new Set<string>();
  for (const { name, tombstone } of entries) {
    if (done.has(name) || (await store.tombstone(name))) {
      already++;
    } else {
      await store.erase(name, tombstone);
      applied++;
    }
    done.add(name);
  }
  return { applied, already };
}
