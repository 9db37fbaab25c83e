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
import { uncompress } from 'snappyjs';

export interface Hit {
  /** The canary's name (the key it was given under). */
  readonly canary: string;
  /** Path relative to the scanned directory. */
  readonly file: string;
  /** How it was read: 'raw', 'log-record', 'log-value', 'table-block', 'table-value', 'snappy-value', 'sqlite-cell', 'gzip' (joined by '/' when nested). */
  readonly via: string;
  readonly encoding: 'utf-8' | 'utf-16le';
}

/** A decoded piece of a file and how it was reached. */
interface Piece {
  readonly bytes: Uint8Array;
  readonly via: string;
}

const MAX_SNAPPY_OUTPUT = 64 * 1024 * 1024;

// ---------------------------------------------------------------- varints

/** LEB128 varint at `at`: [value, next offset], or undefined past the end. Numbers up to 2^53. */
export function readVarint(b: Uint8Array, at: number): [number, number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = at; i < b.length && i < at + 10; i++) {
    value += (b[i]! & 0x7f) * scale;
    if ((b[i]! & 0x80) === 0) return [value, i + 1];
    scale *= 128;
  }
  return undefined;
}

// ---------------------------------------------------------------- LevelDB log files

const LOG_BLOCK = 32 * 1024;
const LOG_HEADER = 7;
const LogType = { Zero: 0, Full: 1, First: 2, Middle: 3, Last: 4 } as const;

/** The records of a LevelDB log (`.log`, `MANIFEST-*`), fragments reassembled. Damaged tails are skipped. */
export function logRecords(file: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let pending: Uint8Array[] | undefined;
  let at = 0;
  while (at + LOG_HEADER <= file.length) {
    const left = LOG_BLOCK - (at % LOG_BLOCK);
    if (left < LOG_HEADER) {
      at += left; // block trailer: zero padding
      continue;
    }
    const length = file[at + 4]! | (file[at + 5]! << 8);
    const type = file[at + 6]!;
    const start = at + LOG_HEADER;
    if (type === LogType.Zero && length === 0) {
      at += left; // preallocated, unused rest of the block
      continue;
    }
    if (start + length > file.length || length > left - LOG_HEADER) break;
    const data = file.subarray(start, start + length);
    at = start + length;
    if (type === LogType.Full) out.push(data);
    else if (type === LogType.First) pending = [data];
    else if (type === LogType.Middle) pending?.push(data);
    else if (type === LogType.Last && pending) {
      pending.push(data);
      out.push(Buffer.concat(pending));
      pending = undefined;
    }
  }
  return out;
}

/** The puts (key and value) and deletions (key) of a LevelDB write batch (a log record). */
export function writeBatchEntries(record: Uint8Array): { key: Uint8Array; value?: Uint8Array }[] {
  const out: { key: Uint8Array; value?: Uint8Array }[] = [];
  let at = 12; // sequence (8) and count (4)
  const slice = (): Uint8Array | undefined => {
    const n = readVarint(record, at);
    if (!n || n[1] + n[0] > record.length) return undefined;
    at = n[1] + n[0];
    return record.subarray(n[1], at);
  };
  while (at < record.length) {
    const tag = record[at++];
    const key = slice();
    if (!key) break;
    if (tag === 1) {
      const value = slice();
      if (!value) break;
      out.push({ key, value });
    } else if (tag === 0) out.push({ key });
    else break;
  }
  return out;
}

// ---------------------------------------------------------------- LevelDB tables

const TABLE_MAGIC = Buffer.from([0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
const FOOTER = 48;

export interface TableBlock {
  /** The block's contents, decompressed. */
  readonly contents: Uint8Array;
  /** Trailer type: 0 stored, 1 Snappy. */
  readonly compression: number;
}

function blockHandle(b: Uint8Array, at: number): [{ offset: number; size: number }, number] | undefined {
  const o = readVarint(b, at);
  const s = o && readVarint(b, o[1]);
  return o && s ? [{ offset: o[0], size: s[0] }, s[1]] : undefined;
}

function readBlock(file: Uint8Array, h: { offset: number; size: number }): TableBlock | undefined {
  if (h.offset + h.size + 5 > file.length) return undefined;
  const raw = file.subarray(h.offset, h.offset + h.size);
  const compression = file[h.offset + h.size]!;
  if (compression === 0) return { contents: raw, compression };
  if (compression === 1) return { contents: uncompress(raw, MAX_SNAPPY_OUTPUT), compression };
  throw new Error(`unknown LevelDB block compression ${compression}`);
}

/** The entries of one table block, keys rebuilt from their shared prefixes. */
export function blockEntries(block: Uint8Array): { key: Uint8Array; value: Uint8Array }[] {
  if (block.length < 4) return [];
  const restarts = new DataView(block.buffer, block.byteOffset, block.byteLength).getUint32(block.length - 4, true);
  const end = block.length - 4 - 4 * restarts;
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  let key: Uint8Array = new Uint8Array(0);
  let at = 0;
  while (at < end) {
    const shared = readVarint(block, at);
    const unshared = shared && readVarint(block, shared[1]);
    const valueLength = unshared && readVarint(block, unshared[1]);
    if (!shared || !unshared || !valueLength) break;
    const keyEnd = valueLength[1] + unshared[0];
    if (keyEnd + valueLength[0] > end || shared[0] > key.length) break;
    key = Buffer.concat([key.subarray(0, shared[0]), block.subarray(valueLength[1], keyEnd)]);
    out.push({ key, value: block.subarray(keyEnd, keyEnd + valueLength[0]) });
    at = keyEnd + valueLength[0];
  }
  return out;
}

/** Every block of a LevelDB table (`.ldb`/`.sst`): the index, the metaindex and each data block. */
export function tableBlocks(file: Uint8Array): TableBlock[] {
  if (file.length < FOOTER || !Buffer.from(file.subarray(file.length - 8)).equals(TABLE_MAGIC)) throw new Error('not a LevelDB table');
  const footer = file.subarray(file.length - FOOTER);
  const meta = blockHandle(footer, 0);
  const index = meta && blockHandle(footer, meta[1]);
  if (!meta || !index) throw new Error('damaged LevelDB table footer');
  const indexBlock = readBlock(file, index[0]);
  if (!indexBlock) throw new Error('damaged LevelDB table index');
  const out: TableBlock[] = [indexBlock];
  const metaBlock = readBlock(file, meta[0]);
  if (metaBlock) out.push(metaBlock);
  for (const e of blockEntries(indexBlock.contents)) {
    const h = blockHandle(e.value, 0);
    const block = h && readBlock(file, h[0]);
    if (block) out.push(block);
  }
  return out;
}

// ---------------------------------------------------------------- values

/** Blink's IndexedDB value wrapper for a Snappy-compressed value: version tag, "needs processing", Snappy. */
const BLINK_SNAPPY = Buffer.from([0xff, 0x11, 0x02]);

/** A value's Snappy-compressed payloads (Blink's IndexedDB wrapper), decompressed. */
export function snappyValues(value: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const v = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  for (let at = v.indexOf(BLINK_SNAPPY); at >= 0 && at < 16; at = v.indexOf(BLINK_SNAPPY, at + 1)) {
    try {
      out.push(uncompress(value.subarray(at + BLINK_SNAPPY.length), MAX_SNAPPY_OUTPUT));
    } catch {
      // Not a Snappy stream after all: the raw value is searched anyway.
    }
  }
  return out;
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
