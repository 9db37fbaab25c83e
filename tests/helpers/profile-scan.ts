/**
 * Searches a browser profile directory for canary strings (tests/e2e/privacy-scan.test.ts,
 * decision 0042). A plain `grep` over a Chromium profile is blind in three places, so this reads
 * the formats instead:
 *
 * - LevelDB (IndexedDB, Local Storage, Session Storage, …): `.log` files cut records into 32 KiB
 *   blocks (a string can straddle two) and `.ldb` tables keep their blocks Snappy-compressed
 *   (block trailer byte 1) with prefix-compressed keys. Both are parsed: log records are
 *   reassembled and their write batches decoded; table blocks are decompressed and their entries
 *   rebuilt.
 * - IndexedDB values: Blink compresses large values with Snappy itself (the value starts with the
 *   wrapper FF 11 02 before the Snappy stream); every LevelDB value with that wrapper is
 *   decompressed too.
 * - SQLite (History, Web Data, …): long cells spill into overflow pages; every text and blob
 *   cell of every table is read through node:sqlite as well as the file's raw bytes.
 *
 * Every byte string found this way (and every file's raw bytes, and gzip members found in them)
 * is searched for each canary as UTF-8 (also V8's one-byte strings, for ASCII) and UTF-16LE (V8's
 * two-byte strings, Chromium's titles). A hit says which canary, which file and through which
 * reading, so a test can require its control canaries to be found the hard way.
 */
import { copyFileSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { gunzipSync } from 'node:zlib';
import { blockEntries, logRecords, snappyValues, tableBlocks, writeBatchEntries } from './leveldb-read.ts';

export { blockEntries, logRecords, readVarint, snappyValues, tableBlocks, writeBatchEntries, type TableBlock } from './leveldb-read.ts';

export interface Hit {
  /** The canary's name (the key it was given under). */
  readonly canary: string;
  /** Path relative to the scanned directory. */
  readonly file: string;
  /**
   * How it was read: 'raw', 'log-record', 'log-key', 'log-value', 'table-block' or
   * 'table-block(snappy)' (then '/key', '/value'), '/snappy-value' (Blink's), 'sqlite-cell', 'gzip'.
   */
  readonly via: string;
  readonly encoding: 'utf-8' | 'utf-16le';
}

/** A decoded piece of a file and how it was reached. */
interface Piece {
  readonly bytes: Uint8Array;
  readonly via: string;
}

function valuePieces(value: Uint8Array, via: string): Piece[] {
  return [{ bytes: value, via }, ...snappyValues(value).map((bytes) => ({ bytes, via: `${via}/snappy-value` }))];
}

// ---------------------------------------------------------------- whole files

const isLevelDbLog = (name: string) => name.endsWith('.log') || name.startsWith('MANIFEST-');
const isLevelDbTable = (name: string) => name.endsWith('.ldb') || name.endsWith('.sst');
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0');

/** Every text and blob cell of every table of a SQLite file (read from a copy: the browser may have left a journal). */
export function sqliteCells(path: string): Uint8Array[] {
  const dir = mkdtempSync(join(tmpdir(), 'fhv-scan-'));
  const copy = join(dir, 'db');
  try {
    copyFileSync(path, copy);
    const db = new DatabaseSync(copy, { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
      const out: Uint8Array[] = [];
      for (const { name } of tables) {
        let rows: Record<string, unknown>[];
        try {
          const statement = db.prepare(`SELECT * FROM "${name.replaceAll('"', '""')}"`);
          statement.setReadBigInts(true);
          rows = statement.all() as Record<string, unknown>[];
        } catch {
          continue; // a virtual table whose module this SQLite lacks
        }
        for (const row of rows) {
          for (const cell of Object.values(row)) {
            if (typeof cell === 'string') out.push(Buffer.from(cell, 'utf8'));
            else if (cell instanceof Uint8Array) out.push(cell);
          }
        }
      }
      return out;
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Gzip members inside a file (HTTP bodies in caches), inflated. */
function gzipMembers(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = b.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); at >= 0; at = b.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), at + 1)) {
    try {
      out.push(gunzipSync(b.subarray(at), { finishFlush: 2 /* Z_SYNC_FLUSH: a member cut short still yields its start */ }));
    } catch {
      // not a gzip member
    }
  }
  return out;
}

/** The pieces of one file: its raw bytes and everything its format lets us decode from it. */
export function filePieces(path: string, bytes: Uint8Array): Piece[] {
  const name = basename(path);
  const pieces: Piece[] = [{ bytes, via: 'raw' }];
  if (isLevelDbLog(name)) {
    for (const record of logRecords(bytes)) {
      pieces.push({ bytes: record, via: 'log-record' });
      for (const e of writeBatchEntries(record)) {
        pieces.push({ bytes: e.key, via: 'log-key' });
        if (e.value) pieces.push(...valuePieces(e.value, 'log-value'));
      }
    }
  } else if (isLevelDbTable(name)) {
    for (const block of tableBlocks(bytes)) {
      const via = block.compression === 1 ? 'table-block(snappy)' : 'table-block';
      pieces.push({ bytes: block.contents, via });
      for (const e of blockEntries(block.contents)) {
        pieces.push({ bytes: e.key, via: `${via}/key` });
        pieces.push(...valuePieces(e.value, `${via}/value`));
      }
    }
  } else if (Buffer.from(bytes.subarray(0, 16)).equals(SQLITE_MAGIC)) {
    for (const cell of sqliteCells(path)) pieces.push({ bytes: cell, via: 'sqlite-cell' });
  }
  for (const member of gzipMembers(bytes)) pieces.push({ bytes: member, via: 'gzip' });
  return pieces;
}

/** Canary hits in one file's pieces. */
export function scanPieces(file: string, pieces: readonly Piece[], canaries: Readonly<Record<string, string>>): Hit[] {
  const hits = new Map<string, Hit>();
  const needles = Object.entries(canaries).flatMap(([canary, text]) => [
    { canary, encoding: 'utf-8' as const, bytes: Buffer.from(text, 'utf8') },
    { canary, encoding: 'utf-16le' as const, bytes: Buffer.from(text, 'utf16le') },
  ]);
  for (const piece of pieces) {
    const b = Buffer.from(piece.bytes.buffer, piece.bytes.byteOffset, piece.bytes.byteLength);
    for (const n of needles) {
      if (b.includes(n.bytes)) {
        const hit = { canary: n.canary, file, via: piece.via, encoding: n.encoding };
        hits.set(JSON.stringify(hit), hit);
      }
    }
  }
  return [...hits.values()];
}

/** Every regular file under `dir` (symlinks, sockets and the like skipped). */
export function profileFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return profileFiles(path);
    return e.isFile() && lstatSync(path).isFile() ? [path] : [];
  });
}

export interface ScanResult {
  readonly hits: Hit[];
  readonly files: number;
  readonly bytes: number;
  /** Files whose format could not be read (they were still searched raw). */
  readonly unreadable: string[];
}

/** Scans every file under `dir` for every canary (see the top of this file for how). */
export function scanProfile(dir: string, canaries: Readonly<Record<string, string>>): ScanResult {
  const hits: Hit[] = [];
  const unreadable: string[] = [];
  let bytes = 0;
  const files = profileFiles(dir);
  for (const path of files) {
    const rel = relative(dir, path);
    const content = readFileSync(path);
    bytes += content.length;
    let pieces: Piece[];
    try {
      pieces = filePieces(path, content);
    } catch {
      unreadable.push(rel);
      pieces = [{ bytes: content, via: 'raw' }];
    }
    hits.push(...scanPieces(rel, pieces, canaries));
  }
  return { hits, files: files.length, bytes, unreadable };
}
