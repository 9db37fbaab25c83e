/**
 * A raw Yjs v1 update writer for hostile input: any clientID and clock, origins and right
 * origins pointing anywhere, any parent (root name or nested item), every content kind, GC and
 * skip structs, and delete sets over any range. Yjs's own encoder cannot produce most of these
 * (it only encodes what a doc holds), which is exactly why an attacker would write bytes by hand.
 * Layout as read by Yjs's readClientsStructRefs / readDeleteSet (UpdateDecoderV1).
 */
import * as encoding from 'lib0/encoding';

export interface RawId {
  readonly client: number;
  readonly clock: number;
}

export type RawContent =
  | { readonly kind: 'deleted'; readonly len: number }
  | { readonly kind: 'json'; readonly values: readonly unknown[] }
  | { readonly kind: 'binary'; readonly bytes: Uint8Array }
  | { readonly kind: 'string'; readonly text: string }
  | { readonly kind: 'embed'; readonly value: unknown }
  | { readonly kind: 'format'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'type'; readonly typeRef: number }
  | { readonly kind: 'any'; readonly values: readonly (string | number | boolean | null)[] }
  | { readonly kind: 'doc'; readonly guid: string };

export type RawStruct =
  | { readonly kind: 'gc'; readonly len: number }
  | { readonly kind: 'skip'; readonly len: number }
  | {
      readonly kind: 'item';
      readonly origin: RawId | null;
      readonly rightOrigin: RawId | null;
      /** Root type name, or the id of the item that holds a nested type; ignored when an origin is set. */
      readonly parent: string | RawId;
      readonly parentSub: string | null;
      readonly content: RawContent;
    };

export interface RawBlock {
  readonly client: number;
  /** Clock of the first struct; the rest follow by length, as Yjs reads them. */
  readonly clock: number;
  readonly structs: readonly RawStruct[];
}

export interface RawDeleteRange {
  readonly client: number;
  readonly clock: number;
  readonly len: number;
}

const CONTENT_REF = { deleted: 1, json: 2, binary: 3, string: 4, embed: 5, format: 6, type: 7, any: 8, doc: 9 } as const;

export function contentLength(c: RawContent): number {
  switch (c.kind) {
    case 'deleted':
      return c.len;
    case 'json':
    case 'any':
      return c.values.length;
    case 'string':
      return c.text.length;
    default:
      return 1;
  }
}

export const structLength = (s: RawStruct): number => (s.kind === 'item' ? contentLength(s.content) : s.len);

const writeId = (e: encoding.Encoder, id: RawId) => {
  encoding.writeVarUint(e, id.client);
  encoding.writeVarUint(e, id.clock);
};

function writeContent(e: encoding.Encoder, c: RawContent): void {
  switch (c.kind) {
    case 'deleted':
      return encoding.writeVarUint(e, c.len);
    case 'json':
      encoding.writeVarUint(e, c.values.length);
      for (const v of c.values) encoding.writeVarString(e, v === undefined ? 'undefined' : JSON.stringify(v));
      return;
    case 'binary':
      return encoding.writeVarUint8Array(e, c.bytes);
    case 'string':
      return encoding.writeVarString(e, c.text);
    case 'embed':
      return encoding.writeVarString(e, JSON.stringify(c.value));
    case 'format':
      encoding.writeVarString(e, c.key);
      return encoding.writeVarString(e, JSON.stringify(c.value));
    case 'type':
      return encoding.writeVarUint(e, c.typeRef);
    case 'any':
      encoding.writeVarUint(e, c.values.length);
      for (const v of c.values) encoding.writeAny(e, v);
      return;
    case 'doc':
      encoding.writeVarString(e, c.guid);
      return encoding.writeAny(e, {});
  }
}

function writeStruct(e: encoding.Encoder, s: RawStruct): void {
  if (s.kind === 'gc') {
    encoding.writeUint8(e, 0);
    return encoding.writeVarUint(e, s.len);
  }
  if (s.kind === 'skip') {
    encoding.writeUint8(e, 10);
    return encoding.writeVarUint(e, s.len);
  }
  const info = CONTENT_REF[s.content.kind] | (s.origin ? 0x80 : 0) | (s.rightOrigin ? 0x40 : 0) | (s.parentSub !== null ? 0x20 : 0);
  encoding.writeUint8(e, info);
  if (s.origin) writeId(e, s.origin);
  if (s.rightOrigin) writeId(e, s.rightOrigin);
  if (!s.origin && !s.rightOrigin) {
    if (typeof s.parent === 'string') {
      encoding.writeVarUint(e, 1);
      encoding.writeVarString(e, s.parent);
    } else {
      encoding.writeVarUint(e, 0);
      writeId(e, s.parent);
    }
    if (s.parentSub !== null) encoding.writeVarString(e, s.parentSub);
  }
  writeContent(e, s.content);
}

/** Encodes blocks (in the given order: a client may appear twice) and a delete set. */
export function encodeRawUpdate(blocks: readonly RawBlock[], deletes: readonly RawDeleteRange[]): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, blocks.length);
  for (const b of blocks) {
    encoding.writeVarUint(e, b.structs.length);
    encoding.writeVarUint(e, b.client);
    encoding.writeVarUint(e, b.clock);
    for (const s of b.structs) writeStruct(e, s);
  }
  const byClient = new Map<number, RawDeleteRange[]>();
  for (const d of deletes) {
    const list = byClient.get(d.client) ?? [];
    list.push(d);
    byClient.set(d.client, list);
  }
  encoding.writeVarUint(e, byClient.size);
  for (const [client, ranges] of byClient) {
    encoding.writeVarUint(e, client);
    encoding.writeVarUint(e, ranges.length);
    for (const r of ranges) {
      encoding.writeVarUint(e, r.clock);
      encoding.writeVarUint(e, r.len);
    }
  }
  return encoding.toUint8Array(e);
}
