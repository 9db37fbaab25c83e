/**
 * Reading Chromium's LevelDB files for the profile scan (profile-scan.ts): log files (records cut
 * into 32 KiB blocks, reassembled; write batches decoded), tables (blocks Snappy-compressed when
 * the trailer byte says 1; keys prefix-compressed, rebuilt) and Blink's own Snappy wrapper on
 * large IndexedDB values. Formats: leveldb's doc/log_format.md and doc/table_format.md.
 */
import { uncompress } from 'snappyjs';

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
