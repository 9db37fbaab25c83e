import { CodedError } from '../src/lib/errors.ts';
import { ProtocolErrors, type Failure, type ProtocolErrorCode } from '../src/lib/protocol/index.ts';

/**
 * The relay's own codes (range 400-499 of src/lib/errors.ts): the bodies of its HTTP answers
 * about document files (docs/protocol.md §7a) that are not protocol codes, and its storage
 * failures. Numbers never change
 * meaning and are not HTTP statuses (the status each is sent with is in docs/errors.md).
 */
export const RelayErrors = {
  /** 405: anything but GET, HEAD or PUT under /blobs. */
  BLOB_BAD_METHOD: 400,
  /** 404: a /blobs path that is not /blobs/<doc>/<id>. */
  BLOB_BAD_PATH: 401,
  /** 404: no file with this id in this document. */
  BLOB_UNKNOWN_ID: 402,
  /** 413: the declared or streamed body is over maxBlobBytes. */
  BLOB_BODY_TOO_LARGE: 403,
  /** 400: an empty body. */
  BLOB_EMPTY: 404,
  /** 400: the body does not hash to its id. */
  BLOB_ID_MISMATCH: 405,
  /** 507: the document's file quota (bytes or count) would be exceeded. */
  BLOB_QUOTA_EXCEEDED: 406,
  /** 500: the relay failed to handle the request (its storage, a bug); nothing was stored. */
  BLOB_RELAY_FAILED: 407,
  /**
   * An envelope update could not be stored (disk full, I/O error, the storage worker stopped):
   * it is not acknowledged; its document is reset and every connection on it closed with 4205
   * (server/durable-ack.ts).
   */
  RELAY_STORAGE_FAILED: 408,
  /** 503 on `/readyz`: storage did not answer a trivial read within the readiness timeout. */
  RELAY_NOT_READY: 409,
  /** 503 on `/readyz`: the relay is shutting down (draining); send new clients elsewhere. */
  RELAY_DRAINING: 410,
  /**
   * A FileStore was asked for a document or file name that is not 1-64 base64url characters (the
   * routes only pass such names): refused before any storage request, so no name can reach an
   * object key outside its document's prefix (`..`, `/`, another document's prefix).
   */
  FILE_STORE_BAD_NAME: 486,
  /** A file read back from the S3 store does not hash to its id (changed in the bucket): not served; the route answers 500 BLOB_RELAY_FAILED. */
  FILE_STORE_CORRUPT: 487,
  /** 404: `GET /erased/<doc>` for a document that was not erased (or a bad path). */
  /** 429: `GET /erased/<doc>`: this address's, this key's or the relay's budget for the route is spent for now. */
  ERASE_RATE_LIMITED: 480,
  /** 403: `GET /erased/<doc>` with a valid token from a key that was not a member's when the profile was erased. */
  ERASE_NOT_A_MEMBER: 481,
  /** 404: `GET /erased/<doc>` with a bad path or method (a valid token for a document not erased gets 204). */
  ERASE_NO_TOMBSTONE: 489,
  /**
   * `npm run relay -- …` (server/admin.ts): an unknown command or missing argument, a backup
   * target that already exists, or a restore into a data dir that already has a relay database.
   * Nothing is written.
   */
  RELAY_BACKUP_REFUSED: 484,
  /** `npm run relay -- …`: what it was to back up or restore from is not a relay database, files backup or erasure journal, or fails its check. Nothing is written. */
  RELAY_BACKUP_UNREADABLE: 485,
  /**
   * `npm run relay -- backup-files`: the file index lists files whose bodies the file store no
   * longer has (the bucket lost them). Everything else was copied; exit 1.
   */
  RELAY_BACKUP_INCOMPLETE: 488,
  // SMART Health Links (server/shl.ts, docs/protocol.md §7b), from the end of the range.
  /** 405: a method the SHL route does not take. */
  SHL_BAD_METHOD: 490,
  /** 404: no such link, or revoked, expired, out of passcode attempts; or a bad path or file ticket. */
  SHL_UNKNOWN: 491,
  /** 401 (JSON body with remainingAttempts): the manifest request's passcode is missing or wrong. */
  SHL_PASSCODE_REFUSED: 492,
  /** 429: the link's or the relay's budget for open SHL requests is spent for now. */
  SHL_RATE_LIMITED: 493,
  /** 413: a manifest request or a stored link over its size cap. */
  SHL_BODY_TOO_LARGE: 494,
  /** 507: the profile already has as many live links as allowed. */
  SHL_QUOTA_EXCEEDED: 495,
  /** 409: a link with this manifest id exists (ids are never reused). */
  SHL_ID_TAKEN: 496,
  /** 400: a request body that is not what the route takes. */
  SHL_RELAY_BAD_REQUEST: 497,
  /** 403: storing or revoking a link is for the profile's owners. */
  SHL_NOT_OWNER: 498,
  /** 500: the relay failed to handle the request. */
  SHL_RELAY_FAILED: 499,
} as const;

export type RelayErrorCode = keyof typeof RelayErrors;

/**
 * WebSocket close code for a protocol code: 4000 + (number % 1000), so 4100-4199 (4164 is
 * TOKEN_NOT_MEMBER, 4171 RELAY_RATE_LIMITED). Stable: clients and operators may read it.
 */
export const closeCodeOf = (code: ProtocolErrorCode): number => 4000 + (ProtocolErrors[code] % 1000);

/** What a Hocuspocus hook throws, or `connection.close` takes, to close with a stable code: Hocuspocus reads a numeric `code` and a `reason`. */
export interface HocuspocusClose {
  readonly code: number;
  readonly reason: ProtocolErrorCode;
}

/**
 * A protocol refusal at the relay. Its `code` and `number` are the protocol table's; Hocuspocus
 * needs the close code in a field also named `code`, so hooks throw `close` (one object, built
 * once) rather than the error itself: a hook that throws the error would close with Hocuspocus'
 * generic code. The reason sent is the stable code, never record content.
 */
export class RelayRefusal extends CodedError<ProtocolErrorCode> {
  readonly closeCode: number;
  readonly close: HocuspocusClose;
  constructor(failure: Pick<Failure, 'code' | 'message'>) {
    super(failure.code, ProtocolErrors[failure.code], `${failure.code}: ${failure.message}`);
    this.closeCode = closeCodeOf(failure.code);
    this.close = Object.freeze({ code: this.closeCode, reason: failure.code });
  }
}

/** A FileStore refusal (FILE_STORE_BAD_NAME, FILE_STORE_CORRUPT): never names the file or document. */
export class FileStoreError extends CodedError<'FILE_STORE_BAD_NAME' | 'FILE_STORE_CORRUPT'> {
  constructor(code: 'FILE_STORE_BAD_NAME' | 'FILE_STORE_CORRUPT', message: string) {
    super(code, RelayErrors[code], message);
  }
}

/**
 * Storage failed: nothing of the write is stored. Thrown from the persist seam, it closes the
 * sender's connection without a numeric close code, so Hocuspocus uses 4205 "Reset Connection"
 * and the client reconnects and sends its unacknowledged changes again.
 */
export class RelayStorageError extends CodedError<'RELAY_STORAGE_FAILED'> {
  constructor(message: string) {
    super('RELAY_STORAGE_FAILED', RelayErrors.RELAY_STORAGE_FAILED, message);
  }
}

export type RelayBackupCode = 'RELAY_BACKUP_REFUSED' | 'RELAY_BACKUP_UNREADABLE' | 'RELAY_BACKUP_INCOMPLETE';

/** An operator command (server/admin.ts) refused its input (nothing was written), or could not copy everything. */
export class RelayBackupError extends CodedError<RelayBackupCode> {
  constructor(code: RelayBackupCode, message: string) {
    super(code, RelayErrors[code], message);
  }
}
