/**
 * Padmé padding (Nikitin et al., PURBs, PETS 2019): hides all but O(log log n) bits of the
 * length at most ~12% overhead, unlike power-of-two buckets (up to 100%). A floor of 64 bytes
 * hides the size of small edits entirely.
 */
import { fail, ok, type Result } from './errors.ts';

export const MIN_PADDED_LENGTH = 64;

export function padmeLength(length: number): number {
  if (length <= MIN_PADDED_LENGTH) return MIN_PADDED_LENGTH;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}

/** u32 length ‖ payload ‖ zeros, to padmeLength(4 + payload.length). */
export function pad(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(padmeLength(payload.length + 4));
  new DataView(out.buffer).setUint32(0, payload.length);
  out.set(payload, 4);
  return out;
}

export function unpad(padded: Uint8Array): Result<Uint8Array> {
  if (padded.length < 4) return fail('RECORD_BAD_PADDING', 'padded plaintext too short');
  const length = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint32(0);
  if (length > padded.length - 4) return fail('RECORD_BAD_PADDING', 'declared length exceeds plaintext');
  if (padded.length !== padmeLength(length + 4)) return fail('RECORD_BAD_PADDING', 'padding is not the canonical size');
  for (let i = 4 + length; i < padded.length; i++) {
    if (padded[i] !== 0) return fail('RECORD_BAD_PADDING', 'non-zero padding');
  }
  return ok(padded.subarray(4, 4 + length));
}
