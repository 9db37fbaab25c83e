/** The Redis extension's internals the cluster relies on are all there, and a missing one stops the start (server/redis-internals.ts). */
import { Redis } from '@hocuspocus/extension-redis';
import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisInternals } from '../../server/redis-internals.ts';

describe('the Redis extension seen through its internals', () => {
  it('the installed version has every member cluster.ts uses', () => {
    const clients: IORedis[] = [];
    // Lazy clients: nothing connects (no server is needed to look at the extension's shape).
    const redis = new Redis({ createClient: () => (clients.push(new IORedis({ lazyConnect: true })), clients.at(-1)!) });
    try {
      const ext = redisInternals(redis);
      expect(ext.pubKey('doc')).toContain('doc');
      expect(ext.encodeMessage(Uint8Array.of(1, 2)).length).toBeGreaterThan(2);
    } finally {
      for (const c of clients) c.disconnect();
    }
  });

  it('a release without one of them fails at start, naming what is missing', () => {
    const fake = { pub: {}, sub: {}, pubKey: () => '', encodeMessage: () => Buffer.alloc(0), flushPublish: async () => undefined, onChange: async () => undefined };
    expect(() => redisInternals(fake as unknown as Redis)).toThrow(/schedulePublish, publishFirstSyncStep missing/);
  });
});
