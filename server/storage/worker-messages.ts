/** Messages between the relay's event loop (sqlite-relay-store.ts) and its storage worker (sqlite-worker.ts). */
import type { ClientBinding, FoldedRows, LogPosition, StoredDocument, Tombstone } from './relay-store.ts';

/** Requests that change the database: committed together, in one transaction per batch. */
export type WriteRequest =
  | { readonly id: number; readonly op: 'append'; readonly name: string; readonly update: Uint8Array; readonly bindings: readonly ClientBinding[] }
  | { readonly id: number; readonly op: 'bind'; readonly name: string; readonly bindings: readonly ClientBinding[] }
  | { readonly id: number; readonly op: 'fold'; readonly name: string; readonly state: Uint8Array; readonly rows: FoldedRows; readonly now: number }
  | { readonly id: number; readonly op: 'erase'; readonly name: string; readonly tombstone: Tombstone };

/** Requests that only read: answered after the batch's writes committed. */
export type ReadRequest =
  | { readonly id: number; readonly op: 'load'; readonly name: string }
  | { readonly id: number; readonly op: 'owners'; readonly name: string }
  | { readonly id: number; readonly op: 'names' }
  | { readonly id: number; readonly op: 'tombstone'; readonly name: string }
  | { readonly id: number; readonly op: 'stats' }
  | { readonly id: number; readonly op: 'ping' }
  | { readonly id: number; readonly op: 'close' };

export type StorageRequest = WriteRequest | ReadRequest;

/** What each request resolves to. */
export interface StorageResults {
  append: LogPosition;
  bind: undefined;
  fold: undefined;
  erase: undefined;
  tombstone: Tombstone | undefined;
  load: StoredDocument | undefined;
  owners: ClientBinding[];
  names: string[];
  stats: CommitStats;
  ping: undefined;
  close: undefined;
}

/** What group commit achieved since the worker started (writes per transaction). */
export interface CommitStats {
  /** Transactions committed. */
  readonly transactions: number;
  /** Writes (append, bind, fold) they held. */
  readonly writes: number;
}

/** One answer per request, in the order the worker received them. */
export type StorageReply =
  | { readonly id: number; readonly ok: true; readonly value: StorageResults[keyof StorageResults] }
  | { readonly id: number; readonly ok: false; readonly message: string };

/** The worker's first message: the database is open and its schema exists. */
export interface WorkerReady {
  readonly ready: true;
}

/** The worker could not open the database. */
export interface WorkerFailedToOpen {
  readonly ready: false;
  readonly message: string;
}

export interface WorkerData {
  readonly dataDir: string;
}

export const isWrite = (r: StorageRequest): r is WriteRequest => r.op === 'append' || r.op === 'bind' || r.op === 'fold' || r.op === 'erase';
