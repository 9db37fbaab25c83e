/** Messages between the relay's event loop (sqlite-relay-store.ts) and its storage worker (sqlite-worker.ts), over worker-rpc.ts. */
import type { ClientBinding, FoldedRows, LogPosition, StoredDocument, Tombstone } from './relay-store.ts';

/** Requests that change the database: committed together, in one transaction per batch. */
export type WriteRequest =
  | { readonly seq: number; readonly op: 'append'; readonly name: string; readonly update: Uint8Array; readonly bindings: readonly ClientBinding[] }
  | { readonly seq: number; readonly op: 'bind'; readonly name: string; readonly bindings: readonly ClientBinding[] }
  | { readonly seq: number; readonly op: 'fold'; readonly name: string; readonly state: Uint8Array; readonly rows: FoldedRows; readonly now: number }
  | { readonly seq: number; readonly op: 'erase'; readonly name: string; readonly tombstone: Tombstone };

/** Requests that only read: answered after the batch's writes committed. */
export type ReadRequest =
  | { readonly seq: number; readonly op: 'load'; readonly name: string }
  | { readonly seq: number; readonly op: 'owners'; readonly name: string }
  | { readonly seq: number; readonly op: 'names' }
  | { readonly seq: number; readonly op: 'tombstone'; readonly name: string }
  | { readonly seq: number; readonly op: 'stats' }
  | { readonly seq: number; readonly op: 'ping' }
  | { readonly seq: number; readonly op: 'close' };

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

/** The worker's answers, as an op → (fields) → answer table (worker-rpc.ts's WorkerApi). */
export type StorageApi = { [K in StorageRequest['op']]: (fields: Omit<Extract<StorageRequest, { op: K }>, 'seq' | 'op'>) => StorageResults[K] };

export interface WorkerData {
  readonly dataDir: string;
}

export const isWrite = (r: StorageRequest): r is WriteRequest => r.op === 'append' || r.op === 'bind' || r.op === 'fold' || r.op === 'erase';
