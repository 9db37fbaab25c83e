/** What the one sync indicator says (issue 13 item 4), for every state summarize() produces. */
import { describe, expect, it } from 'vitest';
import { summarize } from '../../src/lib/sync/status.ts';
import { actionFor, syncView } from '../../src/lib/state/sync-view.ts';

const base = { connection: 'connected' as const, pending: 0, gaps: 0, problems: [], synced: true, verifying: false };

describe('sync indicator words', () => {
  it('synced, catching up, pending N counted as the person counts, offline with what is kept', () => {
    expect(syncView(summarize(base))).toMatchObject({ kind: 'synced', text: 'Synced' });
    expect(syncView(summarize({ ...base, synced: false }))).toMatchObject({ kind: 'pending', text: 'Syncing…' });
    // 16 updates of one typed line: one change.
    expect(syncView(summarize({ ...base, pending: 16, edits: 1 }))).toMatchObject({ kind: 'pending', text: '1 change pending' });
    expect(syncView(summarize({ ...base, pending: 3 }))).toMatchObject({ kind: 'pending', text: 'Changes pending' });
    expect(syncView(summarize({ ...base, connection: 'offline', pending: 5, edits: 2 }))).toMatchObject({ kind: 'offline', text: 'Offline · 2 changes to send' });
    expect(syncView(summarize({ ...base, connection: 'offline' }))).toMatchObject({ kind: 'offline', text: 'Offline', detail: 'Everything is saved on this device.' });
    expect(syncView(summarize({ ...base, connection: 'connecting' }))).toMatchObject({ kind: 'connecting' });
    expect(syncView(undefined).kind).toBe('connecting');
  });

  it('an error says what happened and what to do, never "Error" alone', () => {
    const v = syncView(summarize({ ...base, problems: [{ code: 'SYNC_CACHE_MISMATCH', message: 'The copy did not match.' }, { code: 'RECORD_FORK', message: 'X.' }] }));
    expect(v).toMatchObject({ kind: 'error', text: 'Sync problem', detail: 'The copy did not match. (1 more problem)' });
    expect(v.action).toMatch(/^Reload the page/);
    for (const code of ['TOKEN_NOT_MEMBER', 'RECORD_BAD_SIGNATURE', 'SYNC_SEAL_FAILED', 'SYNC_SWEEP_FAILED', '']) {
      expect(actionFor(code)).toMatch(/^[A-Z].*\.$/);
    }
  });
});
