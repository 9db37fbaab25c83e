/**
 * Naming from the screens (docs/decisions/0038): each returns the refusal's message for the
 * form to show (empty, too long, not an owner), or null once written.
 */
import { describeError, nameInvitation, nameInviteByKey } from '../vault/app.ts';
import type { ProfileState } from './profile.svelte.ts';

/** Owners: the name of the person an open invitation (by key) is for. */
export function nameInvite(p: ProfileState, inviteKey: string, name: string): string | null {
  try {
    nameInviteByKey(p.profile, inviteKey, name);
    return null;
  } catch (e) {
    return describeError(e);
  }
}

/** Owners: the same, for a link just made (the sharing page's "Who is this for?"). */
export function nameInviteLink(p: ProfileState, link: string, name: string): string | null {
  try {
    nameInvitation(p.profile, link, name);
    return null;
  } catch (e) {
    return describeError(e);
  }
}
