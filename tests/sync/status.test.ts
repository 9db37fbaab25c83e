import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/lib/sync/status.ts';

describe('sync status summary', () => {
  const base = { connection: 'connected' as const, pending: 0, gaps: 0, problems: [], synced: true, verifying: false };
  it('is synced only when connected, caught up, nothing pending and no gaps', () => {
    expect(summarize(base).state).toBe('synced');
    expect(summarize({ ...base, pending: 2 }).state).toBe('pending');
    expect(summarize({ ...base, gaps: 1 }).state).toBe('pending');
    expect(summarize({ ...base, synced: false }).state).toBe('pending');
    expect(summarize({ ...base, connection: 'offline' }).state).toBe('offline');
    expect(summarize({ ...base, connection: 'connecting', pending: 3 }).state).toBe('offline');
  });
  it('while a cached open is verified it is never synced, whatever the connection says', () => {
    const s = summarize({ ...base, verifying: true });
    expect(s.state).toBe('verifying');
    expect(s.synced).toBe(false);
    expect(summarize({ ...base, verifying: true, connection: 'offline' }).state).toBe('verifying');
    expect(summarize({ ...base, verifying: true, problems: [{ code: 'SYNC_CACHE_MISMATCH', message: 'x' }] }).state).toBe('error');
  });
  it('problems win over everything', () => {
    expect(summarize({ ...base, connection: 'offline', problems: [{ code: 'RECORD_FORK', message: 'x' }] }).state).toBe('error');
  });
});
