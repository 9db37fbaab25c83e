/**
 * Where co-editing bytes go (issue 11): classifies every WebSocket frame of a Hocuspocus
 * connection by message kind and direction, and splits each envelope record it carries into its
 * parts (header, nonce, MAC, bound header hash, padding, Yjs payload, signature) plus the Yjs
 * framing around it (map item, key) and the Hocuspocus framing (document name, message type).
 * Used by bench/s8-bytes.ts; info only, no effect on any target.
 */
import * as decoding from 'lib0/decoding';
import * as Y from 'yjs';
import { NONCE_LENGTH, NONCE_V3_LENGTH, parseRecord, RecordType, RecordVersion, SIGNATURE_LENGTH, type ParsedRecord } from '../../src/lib/protocol/index.ts';

export type Direction = 'up' | 'down';

/** A part of the bytes, keyed by a readable name; `n` counts the things it was summed over. */
export interface Bucket {
  bytes: number;
  n: number;
}

export class WireBreakdown {
  readonly kinds = new Map<string, Bucket>();
  readonly parts = new Map<string, Bucket>();
  /** Splits one record's body further (padding, payload) when a key for its epoch is known: `open` returns len ‖ payload ‖ zeros. */
  private readonly open: ((r: ParsedRecord) => Uint8Array | null) | undefined;
  constructor(open?: (r: ParsedRecord) => Uint8Array | null) {
    this.open = open;
  }

  private add(map: Map<string, Bucket>, name: string, bytes: number, n = 1): void {
    const b = map.get(name) ?? { bytes: 0, n: 0 };
    b.bytes += bytes;
    b.n += n;
    map.set(name, b);
  }

  reset(): void {
    this.kinds.clear();
    this.parts.clear();
  }

  frame(bytes: Uint8Array, dir: Direction): void {
    const d = decoding.createDecoder(bytes);
    let kind = 'unparsed';
    try {
      const name = decoding.readVarString(d);
      const afterName = d.pos;
      const type = decoding.readVarUint(d);
      this.add(this.parts, `hocuspocus: document name (${dir})`, afterName);
      kind = kindName(type);
      if (type === 0 || type === 4) {
        const sync = decoding.readVarUint(d);
        kind = ['sync step 1', 'sync step 2', 'update'][sync] ?? `sync ${sync}`;
        if (sync === 1 || sync === 2) {
          const update = decoding.readVarUint8Array(d);
          this.add(this.parts, `hocuspocus: message type + length (${dir})`, d.pos - afterName - update.length);
          this.update(update, dir);
        }
      } else if (type === 1) {
        kind = 'awareness';
      }
      void name;
    } catch {
      kind = 'unparsed';
    }
    this.add(this.kinds, `${kind} ${dir}`, bytes.length);
  }

  private update(update: Uint8Array, dir: Direction): void {
    const { structs } = Y.decodeUpdate(update);
    let recordBytes = 0;
    for (const s of structs) {
      const content = (s as { content?: unknown }).content;
      if (content instanceof Y.ContentBinary) {
        recordBytes += content.content.length;
        const key = (s as Y.Item).parentSub;
        this.add(this.parts, `yjs: map key (${dir})`, key ? key.length : 0, 0);
        this.record(content.content, dir);
      }
    }
    this.add(this.parts, `yjs: struct framing, delete set (${dir})`, update.length - recordBytes, 0);
  }

  private record(bytes: Uint8Array, dir: Direction): void {
    const parsed = parseRecord(bytes);
    if (!parsed.ok) {
      this.add(this.parts, `record: unparsed (${dir})`, bytes.length);
      return;
    }
    const r = parsed.value;
    const type = r.header.type === RecordType.update ? 'update' : r.header.type === RecordType.snapshot ? 'snapshot' : `type ${r.header.type}`;
    const tag = `${type} record (${dir})`;
    this.add(this.parts, `${tag}: count`, 0, 1);
    this.add(this.parts, `${tag}: header`, r.headerBytes.length - r.header.ext.length, 0);
    this.add(this.parts, `${tag}: ext`, r.header.ext.length, 0);
    this.add(this.parts, `${tag}: signature`, SIGNATURE_LENGTH, 0);
    if (r.body.length === 0) return;
    const nonce = r.version === RecordVersion.v3 ? NONCE_V3_LENGTH : NONCE_LENGTH;
    this.add(this.parts, `${tag}: nonce`, nonce, 0);
    this.add(this.parts, `${tag}: MAC`, 16, 0);
    const sealed = r.body.length - nonce - 16;
    const plaintext = this.open?.(r) ?? null;
    if (plaintext === null) {
      this.add(this.parts, `${tag}: sealed plaintext (not opened)`, sealed, 0);
      return;
    }
    // v1/v2 plaintext = boundHash ‖ len(u32) ‖ payload ‖ zeros (`open` strips the hash); v3 has none.
    const hashBytes = sealed - plaintext.length;
    if (hashBytes > 0) this.add(this.parts, `${tag}: bound header hash (v1/v2)`, hashBytes, 0);
    const len = new DataView(plaintext.buffer, plaintext.byteOffset).getUint32(0);
    this.add(this.parts, `${tag}: padding length prefix`, 4, 0);
    this.add(this.parts, `${tag}: padding zeros`, plaintext.length - 4 - len, 0);
    const sessions = plaintext[4] ?? 0;
    this.add(this.parts, `${tag}: payload session list`, 1 + 4 * sessions, 0);
    this.add(this.parts, `${tag}: payload Yjs updateV2`, len - 1 - 4 * sessions, 0);
  }

  table(): string {
    const rows: string[] = [];
    const total = [...this.kinds.values()].reduce((s, b) => s + b.bytes, 0);
    rows.push(`by message kind (total ${total} B):`);
    for (const [k, b] of [...this.kinds].sort((x, y) => y[1].bytes - x[1].bytes)) rows.push(`  ${k.padEnd(44)} ${String(b.bytes).padStart(9)} B  ${String(b.n).padStart(6)} frames  ${(b.bytes / Math.max(1, b.n)).toFixed(1)} B/frame`);
    rows.push('parts:');
    for (const [k, b] of [...this.parts].sort((x, y) => x[0].localeCompare(y[0]))) rows.push(`  ${k.padEnd(60)} ${String(b.bytes).padStart(9)} B${b.n ? `  (n ${b.n})` : ''}`);
    return rows.join('\n');
  }
}

function kindName(type: number): string {
  return (
    ({ 0: 'sync', 1: 'awareness', 2: 'auth', 3: 'query awareness', 4: 'sync reply', 5: 'stateless', 6: 'broadcast stateless', 7: 'close', 8: 'sync status (ack)', 9: 'ping', 10: 'pong' } as Record<number, string>)[type] ?? `type ${type}`
  );
}
