/**
 * Plaintext payload of an `update` record: the clientID sessions it claims, then a Yjs updateV2.
 *   payload = count(u8) ‖ count × session(u32) ‖ updateV2
 */
import { ByteReader, ByteWriter } from './codec.ts';
import { fail, ok, type Result } from './errors.ts';

export interface UpdatePayload {
  readonly sessions: readonly number[];
  readonly update: Uint8Array;
}

export function encodeUpdatePayload(p: UpdatePayload): Uint8Array {
  if (p.sessions.length > 255) throw new RangeError('too many sessions in one record');
  const w = new ByteWriter().u8(p.sessions.length);
  for (const s of p.sessions) w.u32(s);
  return w.bytes(p.update).finish();
}

export function decodeUpdatePayload(bytes: Uint8Array): Result<UpdatePayload> {
  const r = new ByteReader(bytes);
  const count = r.u8();
  if (count === null) return fail('RECORD_BAD_PAYLOAD', 'empty update payload');
  const sessions: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = r.u32();
    if (s === null) return fail('RECORD_BAD_PAYLOAD', 'update payload sessions truncated');
    sessions.push(s);
  }
  return ok({ sessions, update: r.take(r.remaining)! });
}
