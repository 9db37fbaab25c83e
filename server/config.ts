/** Every relay limit and setting in one object; `configFromEnv` is the only place env vars are read. */
import { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits } from '../src/lib/protocol/index.ts';

export interface RelayConfig {
  readonly port: number;
  readonly host: string;
  /** Directory for the embedded SQLite database. */
  readonly dataDir: string;
  /** Built web app to serve (absent: a placeholder page). */
  readonly staticDir: string | undefined;
  readonly envelope: EnvelopeLimits;
  /** Largest WebSocket frame accepted (ws maxPayload). */
  readonly maxFrameBytes: number;
  /** Largest encrypted document file (blob) accepted by PUT /blobs/...; larger bodies get 413. */
  readonly maxBlobBytes: number;
  /** Tokens may not be valid for longer than this. */
  readonly maxTokenLifetimeMs: number;
  /** onStoreDocument debounce; every change is also appended durably before it is acknowledged. */
  readonly storeDebounceMs: number;
  readonly quiet: boolean;
  readonly now: () => number;
  /** Time-limited members are re-checked at least this often (clock jumps, sleep). */
  readonly expiryCheckMs: number;
}

export const DEFAULT_PORT = 8787;

export function defaultConfig(overrides: Partial<RelayConfig> = {}): RelayConfig {
  return {
    port: DEFAULT_PORT,
    host: '127.0.0.1',
    dataDir: './data',
    staticDir: undefined,
    envelope: DEFAULT_ENVELOPE_LIMITS,
    maxFrameBytes: 20 * 1024 * 1024,
    maxBlobBytes: 25 * 1024 * 1024,
    maxTokenLifetimeMs: 10 * 60 * 1000,
    storeDebounceMs: 1000,
    quiet: true,
    now: Date.now,
    expiryCheckMs: 30_000,
    ...overrides,
  };
}

export function configFromEnv(env: NodeJS.ProcessEnv, overrides: Partial<RelayConfig> = {}): RelayConfig {
  return defaultConfig({
    port: env.PORT ? Number(env.PORT) : DEFAULT_PORT,
    host: env.HOST ?? '127.0.0.1',
    dataDir: env.DATA_DIR ?? './data',
    quiet: env.RELAY_QUIET !== '0',
    ...overrides,
  });
}
