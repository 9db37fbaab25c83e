/**
 * Request and answer between the relay's event loop and a worker thread that owns a SQLite
 * connection (sqlite-worker.ts for the log, table-worker.ts for the HTTP routes' tables): one
 * place for the handshake, the numbering of requests, batching in the worker, and what happens
 * when the worker dies. The event loop only posts messages and resolves promises; it never
 * waits for SQLite or for the disk (decision 0054).
 *
 * Protocol: the worker's first message is WorkerReady or WorkerFailedToOpen; then each request
 * `{ seq, op, ...fields }` gets one reply `{ seq, ok, value | message }` (`seq` and `op` are
 * therefore never field names). The worker answers every
 * request that arrived in one turn of its event loop in one message (an array), in order. An
 * op 'close' is answered after everything sent before it, once the database is closed; then the
 * worker ends by itself.
 */
import { parentPort, Worker } from 'node:worker_threads';
import { RelayStorageError } from '../errors.ts';

/** What a worker can be asked: op name → (fields) → answer. */
export type WorkerApi = Record<string, (fields: never) => unknown>;

/** One request on the wire. */
export interface WireRequest {
  readonly seq: number;
  readonly op: string;
}

/** One answer per request, in the order the worker received them. */
export type WireReply<V = unknown> = { readonly seq: number; readonly ok: true; readonly value: V } | { readonly seq: number; readonly ok: false; readonly message: string };

/** The worker's first message: the database is open and its schema exists. */
export interface WorkerReady {
  readonly ready: true;
}

/** The worker could not open the database. */
export interface WorkerFailedToOpen {
  readonly ready: false;
  readonly message: string;
}

/** How long a worker that answered 'close' may take to end before it is terminated. */
const EXIT_GRACE_MS = 5_000;

interface Waiting {
  resolve(value: unknown): void;
  reject(error: RelayStorageError): void;
}

/** The event loop's side: numbered requests, promises resolved by the worker's replies. */
export class WorkerClient<Api extends WorkerApi> {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, Waiting>();
  private nextSeq = 1;
  /** Set once the worker is gone: every later request fails at once with it. */
  private failure: RelayStorageError | undefined;
  private closing: Promise<void> | undefined;
  private readonly lost: Promise<RelayStorageError>;
  private readonly ready: Promise<void>;
  private readonly exited: Promise<void>;
  private ended: 'exited' | 'terminated' | undefined;

  /** Starts `script` with `workerData` and waits until it opened its database. `what` names it in errors. */
  static async start<Api extends WorkerApi>(script: URL, workerData: unknown, what: string): Promise<WorkerClient<Api>> {
    const client = new WorkerClient<Api>(script, workerData, what);
    await client.ready;
    return client;
  }

  private constructor(script: URL, workerData: unknown, what: string) {
    this.worker = new Worker(script, { workerData });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    let markLost: (e: RelayStorageError) => void = () => undefined;
    this.lost = new Promise((resolve) => (markLost = resolve));
    this.ready = new Promise((resolve, reject) => {
      const fail = (error: RelayStorageError) => {
        reject(error);
        if (this.failure) return;
        this.failure = error;
        for (const w of this.waiting.values()) w.reject(error);
        this.waiting.clear();
        if (!this.closing) markLost(error);
      };
      this.worker.once('message', (first: WorkerReady | WorkerFailedToOpen) => {
        if (first.ready) {
          this.worker.on('message', (replies: WireReply[]) => this.answer(replies));
          resolve();
        } else fail(new RelayStorageError(`cannot open the ${what}: ${first.message}`));
      });
      this.worker.on('error', (e) => fail(new RelayStorageError(`${what} worker stopped: ${e.message}`)));
      this.worker.on('exit', (code) => fail(new RelayStorageError(`${what} worker stopped: exit code ${code}`)));
    });
  }

  /** Resolves if the worker stops while open (a crash, not close()). */
  whenLost(): Promise<RelayStorageError> {
    return this.lost;
  }

  ask<K extends keyof Api & string>(op: K, fields: Parameters<Api[K]>[0] & { readonly seq?: never; readonly op?: never }): Promise<ReturnType<Api[K]>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new RelayStorageError('storage is closed'));
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...(fields as object), op, seq });
    });
  }

  /**
   * Requests already sent are answered first (the worker handles them in order). The worker
   * answers 'close' once its database is closed and then ends by itself; it is terminated only
   * if it has not ended within EXIT_GRACE_MS. Terminating it as soon as 'close' was answered
   * tore the worker's environment down while SQLite could still be closing (checkpointing a
   * large WAL) on that thread: a test process once died of SIGSEGV there (CI, 2026-12-02).
   */
  close(): Promise<void> {
    this.closing ??= this.failure ? Promise.resolve() : this.askClose().then(() => this.exitedWithin(EXIT_GRACE_MS));
    return this.closing;
  }

  private async exitedWithin(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') await this.worker.terminate();
    this.ended = outcome === 'late' ? 'terminated' : 'exited';
  }

  /** After close(): whether the worker ended by itself or had to be terminated (tests). */
  get endedBy(): 'exited' | 'terminated' | undefined {
    return this.ended;
  }

  private askClose(): Promise<unknown> {
    const seq = this.nextSeq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      this.worker.postMessage({ op: 'close', seq });
    });
  }

  private answer(replies: readonly WireReply[]): void {
    for (const reply of replies) {
      const w = this.waiting.get(reply.seq);
      if (!w) continue;
      this.waiting.delete(reply.seq);
      if (reply.ok) w.resolve(reply.value);
      else w.reject(new RelayStorageError(`storage request failed: ${reply.message}`));
    }
  }
}

/** A worker's database and how it answers a batch of requests. */
export interface BatchServer<Req extends WireRequest> {
  /** One answer per request of `batch`, in order ('close' is answered like any read). */
  handle(batch: Req[]): WireReply[];
  /** After the batch that held 'close' was answered. */
  close(): void;
}

/**
 * The worker's side: opens the database with `open`, then hands every request that arrived in
 * one turn to `handle` as one batch (setImmediate runs after the port delivered every message
 * already waiting) and posts its answers in one message.
 */
export function serveBatches<Req extends WireRequest>(open: () => BatchServer<Req>): void {
  const port = parentPort!;
  let server: BatchServer<Req>;
  try {
    server = open();
  } catch (e) {
    port.postMessage({ ready: false, message: messageOf(e) } satisfies WorkerFailedToOpen);
    port.close();
    return;
  }
  const queue: Req[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    const batch = queue.splice(0);
    const replies = server.handle(batch);
    const closing = batch.some((r) => r.op === 'close');
    // Closed before 'close' is answered: the answer means the database is closed; with the port
    // closed too, nothing keeps this thread's event loop alive and the worker ends.
    if (closing) server.close();
    port.postMessage(replies, buffersOf(replies));
    if (closing) port.close();
  };
  port.on('message', (request: Req) => {
    queue.push(request);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  });
  port.postMessage({ ready: true } satisfies WorkerReady);
}

/**
 * The buffers of the answers' byte arrays (a file, a document's state), moved to the event loop
 * rather than copied: receiving a copy of a 25 MB file costs the event loop tens of ms. Only an
 * array that is its buffer's sole view is moved; nothing here keeps a reference to it.
 */
function buffersOf(replies: readonly WireReply[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (v: unknown) => {
    if (v instanceof Uint8Array && v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength) buffers.add(v.buffer);
  };
  for (const r of replies) {
    if (!r.ok) continue;
    if (Array.isArray(r.value)) r.value.forEach(add);
    else if (r.value && typeof r.value === 'object' && !(r.value instanceof Uint8Array)) Object.values(r.value).forEach(add);
    else add(r.value);
  }
  return [...buffers];
}

/** Runs one request; a throw becomes a failed reply. */
export function replyTo(request: WireRequest, run: () => unknown): WireReply {
  try {
    return { seq: request.seq, ok: true, value: run() };
  } catch (e) {
    return { seq: request.seq, ok: false, message: messageOf(e) };
  }
}

export function messageOf(e: unknown): string {
  // SQLite's messages name the failure (disk full, I/O error), never a stored value.
  return e instanceof Error ? e.message : String(e);
}
