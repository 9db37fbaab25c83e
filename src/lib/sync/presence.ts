/**
 * Encrypted, signed presence ("who is here, on which section"), carried in the provider's
 * awareness state as one opaque string: { p: base64url(presence record) }. The relay relays a
 * blob; receivers verify the signer is a current member, open it with the epoch key and drop
 * anything older than PRESENCE_TTL_MS (a replayed presence goes stale).
 */
import { fromBase64Url, toBase64Url, toHex, type Ed25519Engine, type RandomSource, type SigningKeyPair } from '../crypto/index.ts';
import { MAX_PRESENCE_CHARS, openRecord, parseRecord, RecordType, sealRecord, verifyRecord, ZERO_HASH, type Principal } from '../protocol/index.ts';
import type { EpochKeyRing } from './key-ring.ts';

export const PRESENCE_TTL_MS = 60_000;

export interface PresenceState {
  /** Display name chosen by the person (free text, short). */
  readonly name: string;
  /** Which part of the profile they are on (e.g. 'medications'), or '' for none. */
  readonly section: string;
  /** Caret in a note: opaque position tokens (Yjs relative positions, base64url). */
  readonly cursor?: { readonly note: string; readonly anchor: string; readonly head: string };
}

export interface PresenceEntry extends PresenceState {
  /** Signing key (hex) of the device. */
  readonly author: string;
  readonly role: Principal;
  readonly at: number;
}

const clip = (s: unknown, n: number): string => (typeof s === 'string' ? s.slice(0, n) : '');

function cursorOf(c: unknown): PresenceState['cursor'] | undefined {
  const x = c as { note?: unknown; anchor?: unknown; head?: unknown } | null | undefined;
  if (!x || typeof x.note !== 'string' || typeof x.anchor !== 'string' || typeof x.head !== 'string') return undefined;
  if (x.anchor.length > 128 || x.head.length > 128) return undefined;
  return { note: clip(x.note, 64), anchor: x.anchor, head: x.head };
}

export async function sealPresence(o: {
  state: PresenceState;
  docId: Uint8Array;
  epoch: number;
  keys: EpochKeyRing;
  signer: SigningKeyPair;
  engine: Ed25519Engine;
  random: RandomSource;
  now: number;
}): Promise<string | null> {
  const key = o.keys.get(o.epoch);
  if (!key) return null;
  const payload = new TextEncoder().encode(JSON.stringify({ n: clip(o.state.name, 64), s: clip(o.state.section, 64), t: o.now, c: cursorOf(o.state.cursor) }));
  const sealed = await sealRecord({
    header: { type: RecordType.presence, docId: o.docId, epoch: o.epoch, author: o.signer.publicKey, seq: 1, prev: ZERO_HASH, ext: new Uint8Array(0) },
    payload,
    key,
    secretKey: o.signer.secretKey,
    engine: o.engine,
    random: o.random,
  });
  return toBase64Url(sealed.bytes);
}

/** Verifies and opens one peer's presence; null for anything invalid, foreign or stale. */
export async function openPresence(
  blob: unknown,
  o: { docId: Uint8Array; keys: EpochKeyRing; engine: Ed25519Engine; now: number; roleOf: (pk: Uint8Array) => Principal | undefined },
): Promise<PresenceEntry | null> {
  if (typeof blob !== 'string' || blob.length > MAX_PRESENCE_CHARS) return null;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(blob);
  } catch {
    return null;
  }
  const parsed = parseRecord(bytes, 4096);
  if (!parsed.ok || parsed.value.header.type !== RecordType.presence) return null;
  if (toHex(parsed.value.header.docId) !== toHex(o.docId)) return null;
  const role = o.roleOf(parsed.value.header.author);
  const key = o.keys.get(parsed.value.header.epoch);
  if (role === undefined || !key) return null;
  const verified = await verifyRecord(parsed.value, o.engine);
  if (!verified.ok) return null;
  const opened = openRecord(verified.value, key);
  if (!opened.ok) return null;
  try {
    const p = JSON.parse(new TextDecoder().decode(opened.value.payload)) as { n: unknown; s: unknown; t: unknown; c: unknown };
    if (typeof p.t !== 'number' || Math.abs(o.now - p.t) > PRESENCE_TTL_MS) return null;
    const cursor = cursorOf(p.c);
    return { author: toHex(parsed.value.header.author), role, name: clip(p.n, 64), section: clip(p.s, 64), at: p.t, ...(cursor ? { cursor } : {}) };
  } catch {
    return null;
  }
}
