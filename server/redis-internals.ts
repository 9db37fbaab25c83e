/**
 * The internals of @hocuspocus/extension-redis that server/cluster.ts relies on, in one typed
 * view, checked once when a relay starts (not per edit): the extension offers no API for them.
 * Its version is pinned by the lockfile; a release that renames or drops any of these fails the
 * relay's start with a clear message, and tests/server/cluster.test.ts covers each use.
 */
import type { Redis } from '@hocuspocus/extension-redis';
import type { Document, Extension } from '@hocuspocus/server';
import type IORedis from 'ioredis';

/** The extension's batched publish of a changed document (its `schedulePublish` entry). */
export interface PendingPublish {
  syncStepPending: boolean;
}

export interface RedisInternals {
  /** Publishing and subscribing clients. */
  readonly pub: IORedis;
  readonly sub: IORedis;
  /** The server it serves, once configured. */
  readonly instance?: { documents: Map<string, Document> };
  pubKey(documentName: string): string;
  encodeMessage(message: Uint8Array): Buffer;
  schedulePublish(documentName: string, document: Document): PendingPublish;
  flushPublish(documentName: string): Promise<void>;
  publishFirstSyncStep(documentName: string, document: Document): Promise<unknown>;
  onChange: NonNullable<Extension['onChange']>;
}

const METHODS = ['pubKey', 'encodeMessage', 'schedulePublish', 'flushPublish', 'publishFirstSyncStep', 'onChange'] as const;

/** The extension seen through its internals; throws if any of them is missing. */
export function redisInternals(redis: Redis): RedisInternals {
  const ext = redis as unknown as RedisInternals;
  const missing = [...(['pub', 'sub'] as const).filter((k) => ext[k] === undefined), ...METHODS.filter((k) => typeof ext[k] !== 'function')];
  if (missing.length > 0) throw new Error(`@hocuspocus/extension-redis changed: ${missing.join(', ')} missing (server/redis-internals.ts)`);
  return ext;
}
