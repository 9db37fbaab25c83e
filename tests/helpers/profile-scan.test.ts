/**
 * The profile scanner (tests/helpers/profile-scan.ts) on fixture bytes: each reading it claims is
 * shown to find a canary that a plain search of the file's bytes misses (a log record cut by a
 * block boundary, a Snappy-compressed table block with prefix-compressed keys, Blink's
 * Snappy-wrapped IndexedDB value, a SQLite cell, UTF-16LE), and to find nothing where there is
 * nothing. One fixture is a real Chromium Local Storage log.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { compress } from 'snappyjs';
import { afterAll, describe, expect, it } from 'vitest';
import { blockEntries, logRecords, scanPieces, scanProfile, snappyValues, tableBlocks, writeBatchEntries, filePieces } from './profile-scan.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/profile-scan');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fhv-scan-test-'));
  dirs.push(d);
  return d;
}

// ------------------------------------------------------------ tiny LevelDB writers (fixtures)

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const bytes = (s: string) => [...Buffer.from(s, 'latin1')];

/** A write batch of puts. */
function writeBatch(puts: [string | Uint8Array, string | Uint8Array][]): Uint8Array {
  const out = [...new Array(8).fill(0), ...[puts.length, 0, 0, 0]];
  for (const [k, v] of puts) {
    const kb = typeof k === 'string' ? bytes(k) : [...k];
    const vb = typeof v === 'string' ? bytes(v) : [...v];
    out.push(1, ...varint(kb.length), ...kb, ...varint(vb.length), ...vb);
  }
  return Uint8Array.from(out);
}

/** A LevelDB log holding the records, fragmented at 32 KiB block boundaries as LevelDB writes them. */
function logFile(records: Uint8Array[]): Uint8Array {
  const out: number[] = [];
  for (const r of records) {
    let at = 0;
    let first = true;
    do {
      const left = 32768 - (out.length % 32768);
      if (left < 7) {
        out.push(...new Array(left).fill(0));
        continue;
      }
      const n = Math.min(r.length - at, left - 7);
      const last = at + n === r.length;
      const type = first && last ? 1 : first ? 2 : last ? 4 : 3;
      out.push(0, 0, 0, 0, n & 0xff, n >> 8, type, ...r.subarray(at, at + n));
      at += n;
      first = false;
    } while (at < r.length);
  }
  return Uint8Array.from(out);
}

/** A block of entries, keys prefix-compressed against the previous key (one restart point). */
function block(entries: [string, string | Uint8Array][]): Uint8Array {
  const out: number[] = [];
  let prev: number[] = [];
  for (const [k, v] of entries) {
    const kb = bytes(k);
    let shared = 0;
    while (shared < prev.length && shared < kb.length && prev[shared] === kb[shared]) shared++;
    const vb = typeof v === 'string' ? bytes(v) : [...v];
    out.push(...varint(shared), ...varint(kb.length - shared), ...varint(vb.length), ...kb.slice(shared), ...vb);
    prev = kb;
  }
  out.push(0, 0, 0, 0, 1, 0, 0, 0); // restart at 0, one restart
  return Uint8Array.from(out);
}

/** A LevelDB table: the data blocks (Snappy-compressed when asked), an empty metaindex, the index, the footer. */
function tableFile(blocks: { entries: [string, string | Uint8Array][]; snappy: boolean }[]): Uint8Array {
  const out: number[] = [];
  const handles: { offset: number; size: number; last: string }[] = [];
  const put = (contents: Uint8Array, snappy: boolean) => {
    const stored = snappy ? compress(contents) : contents;
    const h = { offset: out.length, size: stored.length };
    out.push(...stored, snappy ? 1 : 0, 0, 0, 0, 0);
    return h;
  };
  for (const b of blocks) handles.push({ ...put(block(b.entries), b.snappy), last: b.entries.at(-1)![0] });
  const meta = put(block([]), false);
  const index = put(block(handles.map((h) => [h.last, Uint8Array.from([...varint(h.offset), ...varint(h.size)])])), false);
  const footer = [...varint(meta.offset), ...varint(meta.size), ...varint(index.offset), ...varint(index.size)];
  out.push(...footer, ...new Array(40 - footer.length).fill(0), 0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb);
  return Uint8Array.from(out);
}

/** A canary whose text repeats inside itself, so Snappy turns it into copies: only decompression finds it. */
const REPEATING = 'canary-' + 'Wq3z'.repeat(16);
const plainSearch = (file: Uint8Array, text: string) => Buffer.from(file).includes(Buffer.from(text));

describe('LevelDB logs', () => {
  it('reassembles a record cut across a 32 KiB block boundary, where a plain search misses the canary', () => {
    const canary = 'Ottoline-Canary-Name';
    const before = 'x'.repeat(32768 - 7 - 12 - 3 - 2 - 8); // puts the canary across the boundary
    const record = writeBatch([['k', before + canary]]);
    const file = logFile([record]);
    expect(plainSearch(file, canary)).toBe(false);
    expect(logRecords(file).map((r) => Buffer.from(r).equals(record))).toEqual([true]);
    expect(writeBatchEntries(record)[0]!.value!.length).toBe(before.length + canary.length);
    expect(scanPieces('f.log', filePieces('000003.log', file), { name: canary }).map((h) => h.via)).toEqual(['log-record', 'log-value']);
  });

  it('reads a real Chromium Local Storage log (the value is stored Latin-1 behind a format byte)', () => {
    const file = readFileSync(join(FIXTURES, 'local-storage-000003.log'));
    const entries = logRecords(file).flatMap(writeBatchEntries);
    expect(entries.map((e) => Buffer.from(e.key).toString('latin1'))).toContain('_http://127.0.0.1:39221\u0000\u0001ctl');
    const hits = scanPieces('ls.log', filePieces('000003.log', file), { control: 'CONTROLCANARYLOCAL', absent: 'Never-Written-Canary' });
    expect(new Set(hits.map((h) => h.canary))).toEqual(new Set(['control']));
    expect(hits.map((h) => h.via)).toEqual(expect.arrayContaining(['raw', 'log-record', 'log-value']));
  });
});

const table = tableFile([
  { entries: [['a-key', 'plain value one'], ['a-key-2', `value holding ${REPEATING}`]], snappy: true },
  { entries: [['b-key', 'stored, not compressed'], ['b-keyZebulon', 'z'], ['b-keyZz', 'last']], snappy: false },
]);

describe('LevelDB tables', () => {

  it('decompresses Snappy blocks (trailer byte 1) that hide the canary from a plain search', () => {
    expect(plainSearch(table, REPEATING)).toBe(false);
    const blocks = tableBlocks(table);
    expect(blocks.map((b) => b.compression)).toEqual([0, 0, 1, 0]); // index, metaindex, data, data
    expect(blockEntries(blocks[2]!.contents).map((e) => Buffer.from(e.key).toString())).toEqual(['a-key', 'a-key-2']);
    expect(blockEntries(blocks[3]!.contents).map((e) => Buffer.from(e.key).toString())).toEqual(['b-key', 'b-keyZebulon', 'b-keyZz']);
    const hits = scanPieces('t.ldb', filePieces('000005.ldb', table), { c: REPEATING });
    expect(hits.map((h) => h.via).sort()).toEqual(['table-block(snappy)', 'table-block(snappy)/value']);
  });

  it('rebuilds prefix-compressed keys (a canary in a key split by the shared prefix)', () => {
    expect(plainSearch(table, 'b-keyZebulon')).toBe(false);
    const hits = scanPieces('t.ldb', filePieces('000005.ldb', table), { k: 'b-keyZebulon' });
    expect(hits.map((h) => h.via)).toEqual(['table-block/key']);
  });

  it('refuses a file that is not a table (it is then searched raw only)', () => {
    expect(() => tableBlocks(Buffer.from('not a table at all, long enough for a footer to be read from it....'))).toThrow(/not a LevelDB table/);
  });
});

describe("Blink's Snappy-compressed IndexedDB values", () => {
  it('decompresses a value behind the FF 11 02 wrapper', () => {
    const inner = Buffer.from(`"${REPEATING}${'y'.repeat(500)}`, 'latin1');
    const value = Uint8Array.from([0xff, 0x11, 0x02, ...compress(inner)]);
    expect(plainSearch(value, REPEATING)).toBe(false);
    expect(snappyValues(value).map((v) => Buffer.from(v).equals(inner))).toEqual([true]);
    const file = logFile([writeBatch([['idb-key', value]])]);
    expect(scanPieces('i.log', filePieces('000003.log', file), { c: REPEATING }).map((h) => h.via)).toEqual(['log-value/snappy-value']);
  });

  it('ignores a wrapper followed by garbage', () => {
    expect(snappyValues(Uint8Array.from([0xff, 0x11, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 1]))).toEqual([]);
  });
});

describe('encodings and whole directories', () => {
  it('finds UTF-16LE text (titles in session files, V8 two-byte strings) and says so', () => {
    const hits = scanPieces('s', [{ bytes: Buffer.from(`title: Ada Canary-Lovelace ✓`, 'utf16le'), via: 'raw' }], { n: 'Ada Canary-Lovelace' });
    expect(hits).toEqual([{ canary: 'n', file: 's', via: 'raw', encoding: 'utf-16le' }]);
  });

  it('scans every file under a directory, SQLite cells included, and finds nothing that is not there', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'Default/IndexedDB/x.leveldb'), { recursive: true });
    writeFileSync(join(dir, 'Default/IndexedDB/x.leveldb/000005.ldb'), table);
    writeFileSync(join(dir, 'Default/plain.txt'), 'hello Plain-Canary');
    const db = new DatabaseSync(join(dir, 'Default/History'));
    db.exec('CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT, title TEXT)');
    // Longer than a page: SQLite cuts it into overflow pages, each with its own header.
    db.prepare('INSERT INTO urls (url, title) VALUES (?, ?)').run(`http://x/#/${'q'.repeat(4070)}Sqlite-Canary-Secret${'q'.repeat(9000)}`, 't');
    db.close();
    const r = scanProfile(dir, { ldb: REPEATING, plain: 'Plain-Canary', sql: 'Sqlite-Canary-Secret', none: 'Absent-Canary' });
    expect(r.files).toBe(3);
    expect(r.unreadable).toEqual([]);
    const found = (c: string) => r.hits.filter((h) => h.canary === c).map((h) => `${h.file} ${h.via}`);
    expect(found('ldb')).toEqual(expect.arrayContaining(['Default/IndexedDB/x.leveldb/000005.ldb table-block(snappy)/value']));
    expect(found('plain')).toEqual(['Default/plain.txt raw']);
    expect(found('sql')).toContain('Default/History sqlite-cell');
    expect(found('none')).toEqual([]);
  });
});
