/**
 * What the one sync indicator says for a status (issue 13 item 4): one word-pair that is always
 * true, the detail, and, for an error, what the person can do. Pure, so each state is tested
 * (tests/state/sync-view.test.ts) and the component only draws it.
 */
import type { SyncStatus } from '../vault/app.ts';

export type SyncKind = 'synced' | 'pending' | 'offline' | 'connecting' | 'error';

export interface SyncView {
  readonly kind: SyncKind;
  /** The pill's words: "Synced", "Offline · 2 changes to send", "1 change pending", "Sync problem". */
  readonly text: string;
  /** One sentence more (shown beside the pill on wide screens, in its label always). */
  readonly detail: string;
  /** For an error: what the person can do about it. */
  readonly action: string;
}

const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** What to do about a problem, by its code's family (the message says what happened). */
export function actionFor(code: string): string {
  if (code.startsWith('SYNC_CACHE_')) return 'Reload the page: this device rebuilds its copy from the checked records.';
  if (code === 'RECORD_NOT_WRITER' || code.startsWith('TOKEN_')) return 'Ask an owner of this profile to check your access in Sharing. Your data on this device is safe.';
  if (code === 'SYNC_SEAL_FAILED') return 'Reload the page. If it happens again, this device may be short of storage.';
  if (code === 'SYNC_SWEEP_FAILED') return 'Nothing is lost. Reload the page; ended sessions are closed again on the next try.';
  return 'Your copy on this device is safe and nothing it refused was applied. Reload the page; if this stays, ask an owner to check the devices in Sharing.';
}

export function syncView(status: SyncStatus | undefined): SyncView {
  if (!status) return { kind: 'connecting', text: 'Connecting…', detail: '', action: '' };
  const unsent = status.edits > 0 ? plural(status.edits, 'change') : status.pending > 0 ? 'Changes' : '';
  switch (status.state) {
    case 'error': {
      const first = status.problems[0];
      const more = status.problems.length - 1;
      return {
        kind: 'error',
        text: 'Sync problem',
        detail: `${first?.message ?? 'Syncing stopped.'}${more > 0 ? ` (${plural(more, 'more problem')})` : ''}`,
        action: actionFor(first?.code ?? ''),
      };
    }
    // summarize() calls every not-connected state offline; "Connecting…" is the hopeful half.
    case 'offline': {
      const saved = unsent ? `${unsent} saved on this device, sent when back online.` : 'Everything is saved on this device.';
      return status.connection === 'connecting'
        ? { kind: 'connecting', text: 'Connecting…', detail: saved, action: '' }
        : { kind: 'offline', text: unsent ? `Offline · ${status.edits > 0 ? plural(status.edits, 'change') : 'changes'} to send` : 'Offline', detail: saved, action: '' };
    }
    // Shown from this device's cache; its records are still being checked (never "Synced" meanwhile).
    case 'verifying':
      return { kind: 'pending', text: 'Checking…', detail: 'Showing the copy saved on this device while its records are checked.', action: '' };
    // Pending with nothing to send is the catch-up after connecting (or records held for a gap).
    case 'pending':
      return status.pending > 0
        ? { kind: 'pending', text: status.edits > 0 ? `${plural(status.edits, 'change')} pending` : 'Changes pending', detail: 'Saved on this device, being sent now.', action: '' }
        : { kind: 'pending', text: 'Syncing…', detail: 'Catching up with the others.', action: '' };
    default:
      return { kind: 'synced', text: 'Synced', detail: 'Everything is shared with the others.', action: '' };
  }
}
