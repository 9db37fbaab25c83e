import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/lib/sync/status.ts';

describe('sync status summary', () => {
  const base = { connection: 'connected' as const, pending: 0, gaps: 0, problems: [], synced: true };
  it('is synced only when connected, caught up, nothing pending and no gaps', () => {
    expect(summarize(base).state).toBe('synced');
    expect(summarize({ ...base, pending: 2 }).state).toBe('pending');
    expect(summarize({ ...base, gaps: 1 }).state).toBe('pending');
    expect(summarize({ ...base, synced: false }).state).toBe('pending');
    expect(summarize({ ...base, connection: 'offline' }).state).toBe('offline');
    expect(summarize({ ...base, connection: 'connecting', pending: 3 }).state).toBe('offline');
  });
  it('problems win over everything', () => {
    expect(summarize({ ...base, connection: 'offline', problems: [{ code: 'RECORD_FORK', message: 'x' }] }).state).toBe('error');
  });
});
