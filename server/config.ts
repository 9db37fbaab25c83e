/** Every relay limit and setting in one object; `configFromEnv` is the only place env vars are read. */
import { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from '../src/lib/protocol/index.ts';
import { jsonLogger, silentLogger, type RelayLogger } from './log.ts';
import type { S3FileStoreOptions } from './storage/s3-file-store.ts';

export interface RelayConfig {
  readonly port: number;
  readonly host: string;
  /** Directory for the embedded SQLite database. */
  readonly dataDir: string;
  /** `postgres://…`: the envelope log in PostgreSQL instead of DATA_DIR (server/storage/open-store.ts). */
  readonly databaseUrl: string | undefined;
  /** `s3://bucket/prefix`: document files in an S3-compatible store instead of DATA_DIR (server/storage/s3-file-store.ts). */
  readonly blobStore: string | undefined;
  /** Endpoint, region, credentials for `blobStore` (credentials default to the AWS SDK's chain: AWS_ACCESS_KEY_ID, …). */
  readonly s3: S3FileStoreOptions;
  /** `redis://…`: several relay instances share live documents through Redis (server/cluster.ts). */
  readonly redisUrl: string | undefined;
  /** A file outside DATA_DIR and the database: every erasure's tombstone is appended to it, to re-apply after a restore (server/erasure-journal.ts). */
  readonly erasureJournal: string | undefined;
  /** Built web app to serve (absent: a placeholder page). */
  readonly staticDir: string | undefined;
  readonly envelope: EnvelopeLimits;
  /** Largest WebSocket frame accepted (ws maxPayload). */
  readonly maxFrameBytes: number;
  /** Largest encrypted document file (blob) accepted by PUT /blobs/...; larger bodies get 413. */
  readonly maxBlobBytes: number;
  /** Tokens may not be valid for longer than this. */
  readonly maxTokenLifetimeMs: number;
  /**
   * How long after a change the document's log is folded into one state (onStoreDocument).
   * Durability does not wait for it: each update is appended and committed before it is
   * acknowledged (server/persistence.ts).
   */
  readonly storeDebounceMs: number;
  /**
   * A document's record index that no loaded document holds is dropped once nobody asked for it
   * this long (server/registry.ts: indexes built to authenticate strangers or serve file routes).
   */
  readonly registryIdleMs: number;
  /** No log lines and no Hocuspocus banner (tests). */
  readonly quiet: boolean;
  /** Where log lines go (server/log.ts): one JSON object per line, no health data. */
  readonly logger: RelayLogger;
  /** Prometheus metrics on their own port (server/metrics.ts); undefined: off. */
  readonly metricsPort: number | undefined;
  /** Address the metrics port listens on (keep it private: loopback by default). */
  readonly metricsHost: string;
  /** How long `/readyz` waits for storage to answer. */
  readonly readyTimeoutMs: number;
  /** A graceful shutdown that takes longer than this exits anyway (docs/operations.md). */
  readonly shutdownTimeoutMs: number;
  readonly now: () => number;
  /** Time-limited members are re-checked at least this often (clock jumps, sleep). */
  readonly expiryCheckMs: number;
  /** Per-member message/byte budgets, blob quota per profile, refusal logging (docs/operations.md). */
  readonly budgets: RelayBudgets;
  /** Presence (awareness) limits per connection; see server/awareness.ts. */
  readonly presence: PresenceLimits;
}

export interface PresenceLimits {
  /** Awareness client ids one connection may own (first come, per document). Default 8. */
  readonly maxEntriesPerConnection: number;
  /** Largest awareness state (its JSON, in bytes); larger ones are dropped. Default 4096. */
  readonly maxStateBytes: number;
  /** Awareness messages accepted per connection per second (token bucket, burst of the same size); excess dropped. Default 10. */
  readonly maxUpdatesPerSecond: number;
}

export const DEFAULT_PRESENCE_LIMITS: PresenceLimits = { maxEntriesPerConnection: 8, maxStateBytes: 4096, maxUpdatesPerSecond: 10 };

/**
 * What one member may make the relay do (server/budgets.ts, server/blobs.ts, server/log.ts).
 * Token buckets: `burst` is what may arrive at once, `...PerSecond` the sustained refill. The
 * defaults are far above honest use (docs/operations.md "Budgets": the S1 trace replay peaks at
 * ~50 messages/s; a 5,000-record import is one ~0.9 MB message).
 */
export interface RelayBudgets {
  /** Messages one member may send on a document, sustained (per second). Default 200. */
  readonly messagesPerSecond: number;
  /** Messages one member may send on a document at once. Default 2,000. */
  readonly messageBurst: number;
  /** Bytes one member may send on a document, sustained (per second). Default 4 MiB. */
  readonly bytesPerSecond: number;
  /** Bytes one member may send on a document at once; keep it >= maxFrameBytes. Default 64 MiB. */
  readonly byteBurst: number;
  /** Total encrypted file bytes stored per profile (document). Default 1 GiB. */
  readonly blobBytesPerProfile: number;
  /** Encrypted files stored per profile (document). Default 10,000. */
  readonly blobsPerProfile: number;
  /** Refusals of strangers are logged once per reason per interval, with a count. Default 60 s. */
  readonly refusalLogIntervalMs: number;
}

export const DEFAULT_BUDGETS: RelayBudgets = {
  messagesPerSecond: 200,
  messageBurst: 2_000,
  bytesPerSecond: 4 * 1024 * 1024,
  byteBurst: 64 * 1024 * 1024,
  blobBytesPerProfile: 1024 * 1024 * 1024,
  blobsPerProfile: 10_000,
  refusalLogIntervalMs: 60_000,
};

export const DEFAULT_PORT = 8787;

export function defaultConfig(overrides: Partial<RelayConfig> = {}): RelayConfig {
  return {
    port: DEFAULT_PORT,
    host: '127.0.0.1',
    dataDir: './data',
    databaseUrl: undefined,
    redisUrl: undefined,
    erasureJournal: undefined,
    blobStore: undefined,
    s3: {},
    staticDir: undefined,
    envelope: DEFAULT_ENVELOPE_LIMITS,
    maxFrameBytes: 20 * 1024 * 1024,
    maxBlobBytes: 25 * 1024 * 1024,
    maxTokenLifetimeMs: 10 * 60 * 1000,
    storeDebounceMs: 1000,
    registryIdleMs: 60_000,
    quiet: true,
    logger: silentLogger,
    metricsPort: undefined,
    metricsHost: '127.0.0.1',
    readyTimeoutMs: 2_000,
    shutdownTimeoutMs: 20_000,
    now: Date.now,
    expiryCheckMs: 30_000,
    budgets: DEFAULT_BUDGETS,
    presence: DEFAULT_PRESENCE_LIMITS,
    ...overrides,
  };
}

export function configFromEnv(env: NodeJS.ProcessEnv, overrides: Partial<RelayConfig> = {}): RelayConfig {
  return defaultConfig({
    port: env.PORT ? Number(env.PORT) : DEFAULT_PORT,
    host: env.HOST ?? '127.0.0.1',
    dataDir: env.DATA_DIR ?? './data',
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    erasureJournal: env.ERASURE_JOURNAL || undefined,
    blobStore: env.BLOB_STORE || undefined,
    s3: { ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}), ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}) },
    quiet: env.RELAY_QUIET !== '0',
    logger: env.RELAY_QUIET === '1' ? silentLogger : jsonLogger(),
    metricsPort: env.METRICS_PORT ? portOf(env.METRICS_PORT, 'METRICS_PORT') : undefined,
    metricsHost: env.METRICS_HOST ?? '127.0.0.1',
    ...overrides,
  });
}

function portOf(text: string, name: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`${name} must be a port number (0-65535)`);
  return port;
}
