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

describe('what the indicator counts and what is no error', () => {
  const base = { connection: 'connected' as const, pending: 0, gaps: 0, problems: [], synced: true, verifying: false };
  it('counts what the person did, never more than what is pending, and nothing once all is sent', () => {
    expect(summarize({ ...base, pending: 16, edits: 1 }).edits).toBe(1);
    expect(summarize({ ...base, pending: 1, edits: 3 }).edits).toBe(1);
    expect(summarize({ ...base, pending: 0, edits: 3 }).edits).toBe(0);
    expect(summarize({ ...base, pending: 4 }).edits).toBe(0); // unknown after a reload: no number
  });
  it('an invite that expired or was used is refused quietly, not an error; other refusals still are', async () => {
    const { ProblemList, EXPECTED_REFUSALS } = await import('../../src/lib/sync/problems.ts');
    let changes = 0;
    const list = new ProblemList(() => changes++);
    list.refused('k1', undefined, { ok: false, code: 'INVITE_EXPIRED', message: 'this invite expired' });
    list.refused('k2', undefined, { ok: false, code: 'INVITE_USED', message: 'this invite was already used' });
    expect(list.all).toEqual([]);
    expect(list.expected.map((p) => p.code)).toEqual(['INVITE_EXPIRED', 'INVITE_USED']);
    expect(summarize({ ...base, problems: list.all }).state).toBe('synced');
    list.refused('k3', undefined, { ok: false, code: 'RECORD_BAD_SIGNATURE', message: 'bad signature' });
    expect(list.all.map((p) => p.code)).toEqual(['RECORD_BAD_SIGNATURE']);
    expect(summarize({ ...base, problems: list.all }).state).toBe('error');
    expect([...EXPECTED_REFUSALS].every((c) => !c.startsWith('RECORD_'))).toBe(true);
  });
});
