/**
 * Lockboxes deliver epoch keys to members inside the envelope doc (so a key is re-fetchable
 * and never "not sent"). A lockbox is a cleartext-type record signed by an owner:
 *   ext = epoch(u32) ‖ recipient(32, signing key) ‖ ephemeral(32, X25519) ‖ nonce(24) ‖ box
 *   box = secretbox(plaintext, nonce, X25519(ephemeral, recipient box key) → HSalsa20)
 *   plaintext = docId(16) ‖ recipient(32) ‖ epoch(u32) ‖ count(u8) ‖ count × ( epoch(u32) ‖ key(32) )
 * The plaintext repeats docId, recipient and epoch so a box cannot be replayed into another
 * context; the record signature binds it to its owner.
 */
import {
  boxSharedKey,
  bytesEqual,
  generateBoxKeyPair,
  secretboxOpen,
  secretboxSeal,
  type BoxKeyPair,
  type BoxPublicKey,
  type RandomSource,
  type SigningPublicKey,
  type SymmetricKey,
} from '../crypto/index.ts';
import { ByteReader, ByteWriter } from './codec.ts';
import { DOC_ID_LENGTH, NONCE_LENGTH, PUBLIC_KEY_LENGTH } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';

export interface LockboxHeader {
  readonly epoch: number;
  readonly recipient: SigningPublicKey;
}

export function sealLockbox(o: {
  docId: Uint8Array;
  epoch: number;
  recipient: SigningPublicKey;
  recipientBoxKey: BoxPublicKey;
  keys: ReadonlyMap<number, SymmetricKey>;
  random: RandomSource;
}): Uint8Array {
  const ephemeral = generateBoxKeyPair(o.random);
  const nonce = o.random(NONCE_LENGTH);
  const plain = new ByteWriter().bytes(o.docId).bytes(o.recipient).u32(o.epoch).u8(o.keys.size);
  for (const [epoch, key] of o.keys) plain.u32(epoch).bytes(key);
  const box = secretboxSeal(plain.finish(), nonce, boxSharedKey(o.recipientBoxKey, ephemeral.secretKey));
  return new ByteWriter().u32(o.epoch).bytes(o.recipient).bytes(ephemeral.publicKey).bytes(nonce).bytes(box).finish();
}

/** Who a lockbox is for, readable by anyone (the relay included). */
export function lockboxHeader(ext: Uint8Array): Result<LockboxHeader> {
  const r = new ByteReader(ext);
  const epoch = r.u32();
  const recipient = r.take(PUBLIC_KEY_LENGTH);
  if (epoch === null || recipient === null || r.remaining < PUBLIC_KEY_LENGTH + NONCE_LENGTH + 16) {
    return fail('RECORD_BAD_EXT', 'lockbox ext malformed');
  }
  return ok({ epoch, recipient: recipient as SigningPublicKey });
}

export function openLockbox(ext: Uint8Array, o: { docId: Uint8Array; me: SigningPublicKey; box: BoxKeyPair }): Result<Map<number, SymmetricKey>> {
  const r = new ByteReader(ext);
  const epoch = r.u32();
  const recipient = r.take(PUBLIC_KEY_LENGTH);
  const ephemeral = r.take(PUBLIC_KEY_LENGTH);
  const nonce = r.take(NONCE_LENGTH);
  if (epoch === null || recipient === null || ephemeral === null || nonce === null) return fail('RECORD_BAD_EXT', 'lockbox ext malformed');
  if (!bytesEqual(recipient, o.me)) return fail('RECORD_BAD_EXT', 'lockbox is for another member');
  let plain: Uint8Array | null;
  try {
    plain = secretboxOpen(r.take(r.remaining)!, nonce, boxSharedKey(ephemeral as BoxPublicKey, o.box.secretKey));
  } catch {
    plain = null; // low-order ephemeral key: treat as undecryptable
  }
  if (plain === null) return fail('RECORD_DECRYPT_FAILED', 'lockbox does not open with this device key');
  const p = new ByteReader(plain);
  const docId = p.take(DOC_ID_LENGTH);
  const who = p.take(PUBLIC_KEY_LENGTH);
  const innerEpoch = p.u32();
  const count = p.u8();
  if (docId === null || who === null || innerEpoch === null || count === null) return fail('RECORD_BAD_PAYLOAD', 'lockbox content malformed');
  if (!bytesEqual(docId, o.docId) || !bytesEqual(who, o.me) || innerEpoch !== epoch) {
    return fail('RECORD_HEADER_MISMATCH', 'lockbox content was sealed for another context');
  }
  const keys = new Map<number, SymmetricKey>();
  for (let i = 0; i < count; i++) {
    const e = p.u32();
    const k = p.take(32);
    if (e === null || k === null) return fail('RECORD_BAD_PAYLOAD', 'lockbox keys truncated');
    keys.set(e, k.slice() as SymmetricKey);
  }
  if (!keys.has(epoch)) return fail('RECORD_BAD_PAYLOAD', 'lockbox lacks the key of its own epoch');
  return ok(keys);
}
