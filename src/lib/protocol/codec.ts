/** Tiny bounds-checked reader for cleartext ext fields; every overrun becomes a typed failure. */
export class ByteReader {
  private readonly view: DataView;
  private offset = 0;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get remaining(): number {
    return this.bytes.length - this.offset;
  }
  /** Returns null on overrun instead of throwing: callers turn that into their own error code. */
  take(n: number): Uint8Array | null {
    if (this.remaining < n) return null;
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  u8(): number | null {
    return this.remaining < 1 ? null : this.view.getUint8(this.offset++);
  }
  u16(): number | null {
    if (this.remaining < 2) return null;
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number | null {
    if (this.remaining < 4) return null;
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }
  /** Unsigned 48-bit (timestamps in ms). */
  u48(): number | null {
    const hi = this.u16();
    const lo = this.u32();
    return hi === null || lo === null ? null : hi * 2 ** 32 + lo;
  }
}

export class ByteWriter {
  private chunks: number[] = [];
  private parts: Uint8Array[] = [];
  private flush(): void {
    if (this.chunks.length) {
      this.parts.push(Uint8Array.from(this.chunks));
      this.chunks = [];
    }
  }
  bytes(b: Uint8Array): this {
    this.flush();
    this.parts.push(b);
    return this;
  }
  u8(v: number): this {
    this.chunks.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    this.chunks.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u32(v: number): this {
    this.chunks.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u48(v: number): this {
    return this.u16(Math.floor(v / 2 ** 32)).u32(v >>> 0);
  }
  finish(): Uint8Array {
    this.flush();
    let n = 0;
    for (const p of this.parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}
