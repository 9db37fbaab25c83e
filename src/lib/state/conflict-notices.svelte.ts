/**
 * The open profile's same-field conflict notices for the screens (decision 0041): reactive views
 * in words, and the two actions (restore the lost value as a normal edit, dismiss).
 */
import { describeError, type ConflictNotice, type Profile } from '../vault/app.ts';
import { conflictView, type ConflictView } from './conflicts.ts';
import { Subscribed } from './subscribed.svelte.ts';

export class ConflictNoticesState {
  private readonly profile: Profile;
  private readonly sub: Subscribed<readonly ConflictNotice[]>;
  private readonly nameOf: (key: string) => string;
  private readonly fail: (message: string) => void;

  constructor(profile: Profile, nameOf: (key: string) => string, fail: (message: string) => void) {
    this.profile = profile;
    this.nameOf = nameOf;
    this.fail = fail;
    this.sub = new Subscribed((n) => profile.conflicts.notices.subscribe(n), () => profile.conflicts.notices.value);
  }

  get views(): ConflictView[] {
    return this.sub.read().map((n) => conflictView(n, { record: this.profile.records.get(n.section, n.record) as Record<string, unknown> | undefined, nameOf: this.nameOf }));
  }

  restore(id: number): void {
    try {
      this.profile.conflicts.restore(id);
      this.profile.undo.stopCapturing();
    } catch (e) {
      this.fail(describeError(e));
    }
  }

  dismiss(id: number): void {
    this.profile.conflicts.dismiss(id);
  }
}
