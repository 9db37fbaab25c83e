/**
 * The few bytes of Hocuspocus's frames that the relay connection (sync/own-writing.ts) and the
 * relay (server/durable-ack.ts) read or rewrite:
 * lib0's varUint (7 bits a byte, low first) and varString / varUint8Array (a varUint length,
 * then the bytes). Written out here because lib0 is not a runtime dependency (only Yjs and the
 * Hocuspocus packages, which use it inside, are).
 */
import type { Encoder } from 'lib0/encoding';

/** A position in a frame being read. */
export interface FrameReader {
  readonly bytes: Uint8Array;
  pos: number;
}

export function readVarUint(r: FrameReader): number {
  let value = 0;
  let mult = 1;
  for (;;) {
    if (r.pos >= r.bytes.length) throw new RangeError('frame ends inside a varUint');
    const b = r.bytes[r.pos++]!;
    value += (b & 0x7f) * mult;
    if (b < 0x80) return value;
    mult *= 128;
    if (mult > 2 ** 53) throw new RangeError('varUint too long');
  }
}

/** A varString's or varUint8Array's bytes (not decoded). */
export function readVarBytes(r: FrameReader): Uint8Array {
  const n = readVarUint(r);
  if (r.pos + n > r.bytes.length) throw new RangeError('frame ends inside a field');
  const out = r.bytes.subarray(r.pos, r.pos + n);
  r.pos += n;
  return out;
}

export function writeVarUint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

/** `parts` as one frame: numbers are varUints, byte arrays are written as varUint length + bytes. */
export function frame(parts: ReadonlyArray<number | Uint8Array>): Uint8Array {
  const head: number[] = [];
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    if (typeof p === 'number') writeVarUint(head, p);
    else {
      writeVarUint(head, p.length);
      chunks.push(Uint8Array.from(head.splice(0)), p);
    }
  }
  chunks.push(Uint8Array.from(head));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * The bytes a lib0 Encoder holds (what lib0's `toUint8Array` returns): its finished buffers,
 * then the current one up to its position. The provider hands its replies over as an Encoder.
 */
export function encoderBytes(e: Encoder): Uint8Array {
  const full = e.bufs.reduce((n, b) => n + b.length, 0);
  const out = new Uint8Array(full + e.cpos);
  let o = 0;
  for (const b of e.bufs) {
    out.set(b, o);
    o += b.length;
  }
  out.set(e.cbuf.subarray(0, e.cpos), o);
  return out;
}

/** An Encoder holding exactly `bytes`, for lib0's `toUint8Array` (reads cpos, cbuf, bufs). */
export function encoderOf(bytes: Uint8Array): Encoder {
  return { cpos: bytes.length, cbuf: bytes, bufs: [] } as unknown as Encoder;
}
