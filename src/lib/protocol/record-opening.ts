/**
 * Opening a record: decrypts a sealed body with the key its epoch names and checks that it was
 * sealed under this header (v1/v2: the bound header hash; v3: the key derived from it). Apart
 * from record.ts, which seals and parses; both read the derivations in record-hashes.ts.
 */
import { bytesEqual, secretboxOpen, type SymmetricKey } from '../crypto/index.ts';
import { HASH_LENGTH, NONCE_LENGTH, NONCE_V3_LENGTH, RecordVersion } from './constants.ts';
import { fail, ok, type Result } from './errors.ts';
import { unpad } from './padding.ts';
import { headerHash, recordKeyFor, v3Nonce } from './record-hashes.ts';
import { SEALED_TYPES } from './record-types.ts';
import type { OpenedRecord, ParsedRecord, VerifiedRecord } from './record-shapes.ts';

/** Decrypts a verified sealed record with the key its epoch names and checks the bound header hash. */
export function openRecord(record: VerifiedRecord, key: SymmetricKey): Result<OpenedRecord> {
  const payload = payloadOf(record, key);
  return payload.ok ? ok({ record, payload: payload.value }) : payload;
}

/**
 * The payload `openRecord` would return for `record` once verified, computed while its signature
 * is still being checked (docs/decisions/0058). Only for work that decides nothing and whose
 * result is used only after `verifyRecord` passed for these exact bytes (sync/opened-ahead.ts);
 * everything else opens with `openRecord`.
 */
export function openAhead(record: ParsedRecord, key: SymmetricKey): Result<Uint8Array> {
  return payloadOf(record, key);
}

function payloadOf(record: ParsedRecord, key: SymmetricKey): Result<Uint8Array> {
  if (!SEALED_TYPES.has(record.header.type)) return ok(new Uint8Array(0));
  if (record.version === RecordVersion.v3) {
    const n = record.body.subarray(0, NONCE_V3_LENGTH);
    const padded = secretboxOpen(record.body.subarray(NONCE_V3_LENGTH), v3Nonce(n), recordKeyFor(key, record.headerBytes));
    // Under another header the key differs, so the MAC fails: this one code covers a wrong
    // epoch key and a ciphertext moved under another header alike.
    if (padded === null) return fail('RECORD_DECRYPT_FAILED', 'record does not decrypt with its epoch key and header');
    return unpad(padded);
  }
  const nonce = record.body.subarray(0, NONCE_LENGTH);
  const plaintext = secretboxOpen(record.body.subarray(NONCE_LENGTH), nonce, key);
  if (plaintext === null) return fail('RECORD_DECRYPT_FAILED', 'record does not decrypt with its epoch key');
  if (!bytesEqual(plaintext.subarray(0, HASH_LENGTH), headerHash(record.headerBytes))) {
    return fail('RECORD_HEADER_MISMATCH', 'ciphertext was sealed under another header');
  }
  return unpad(plaintext.subarray(HASH_LENGTH));
}
