/**
 * People's names in a profile (docs/decisions/0038). Every name is sealed like everything else;
 * the relay never sees one. Three sources, in the order a reader trusts them:
 *  1. what a device of the person said itself: `name` / `device-label` audit entries, signed by
 *     the device and sealed under the epoch key. Audit entries are the one sealed record every
 *     member may write (viewers and clinicians included), so read-only members name themselves
 *     without the profile's write policy changing;
 *  2. `member-names` in the plain doc: writers' own names (kept by snapshots, so a clinician who
 *     got no history still reads them);
 *  3. the name an owner gave the invitation the member accepted (`invite-names`, plain doc).
 * A person's own name lives in their vault (`member-names` by identity key), so renaming on one
 * device applies on all of them and, as each opens a profile, in every profile.
 */
import { toHex } from '../crypto/index.ts';
import { inviteKeysFromSecret, parseAuditEntry } from '../protocol/index.ts';
import { INVITE_NAMES_MAP, MEMBER_NAMES_MAP } from '../../../crdt-schemas/system.ts';
import { VaultError } from './errors.ts';
import { engineOf } from './engine.ts';
import { parseInviteLink } from './invite.ts';
import type { Profile } from './profile.ts';

/** Longest person name, device label and profile nickname (characters). */
export const NAME_LIMIT = 64;
export const LABEL_LIMIT = 40;

/** A name as it is kept: one line, spaces collapsed, trimmed; empty or too long is a typed error. */
export function cleanName(raw: string, limit = NAME_LIMIT): string {
  // eslint-disable-next-line no-control-regex -- control characters never belong in a name
  const clean = raw.normalize('NFC').replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  if (!clean) throw new VaultError('NAME_EMPTY', 'Please enter a name.');
  if ([...clean].length > limit) throw new VaultError('NAME_TOO_LONG', `A name can have at most ${limit} characters.`);
  return clean;
}

interface Said {
  readonly text: string;
  readonly at: number;
}

/** What each device (hex key) last said about itself: its person's name and its own label. */
export interface Announcements {
  readonly names: ReadonlyMap<string, Said>;
  readonly labels: ReadonlyMap<string, Said>;
}

/**
 * Reads the name and label entries of every audit chain this replica could open. An entry counts
 * only for the key that signed its record (the chain's author), so nobody speaks for another.
 */
export function announcements(profile: Profile): Announcements {
  const names = new Map<string, Said>();
  const labels = new Map<string, Said>();
  for (const [author, entries] of engineOf(profile).sync.auditEntries()) {
    for (const bytes of entries) {
      const parsed = parseAuditEntry(bytes);
      if (!parsed.ok) continue;
      const e = parsed.value.entry;
      if (e.detail === undefined || toHex(e.actor) !== author) continue;
      // Chain order: a later entry replaces an earlier one.
      if (e.kind === 'name') names.set(author, { text: e.detail, at: e.at });
      else if (e.kind === 'device-label') labels.set(author, { text: e.detail, at: e.at });
    }
  }
  return { names, labels };
}

/** The newest name any of these keys (a person's identity and devices) said for itself. */
export function newestSaid(said: ReadonlyMap<string, Said>, keys: readonly string[]): string | undefined {
  let best: Said | undefined;
  for (const k of keys) {
    const s = said.get(k);
    if (s && (!best || s.at > best.at)) best = s;
  }
  return best?.text;
}

/** Names owners gave invitations, by invite key (hex). */
export function inviteNames(profile: Profile): Map<string, string> {
  return new Map(profile.systemMap(INVITE_NAMES_MAP).entries());
}

/** Owners: names the person an invitation (or clinician session) is for, as the others will see them until they name themselves. */
export function nameInvitation(profile: Profile, link: string, name: string): string {
  return nameInviteByKey(profile, toHex(inviteKeysFromSecret(parseInviteLink(link).secret).signing.publicKey), name);
}

/** The same, by the invitation's key (hex) as the sharing list shows it. */
export function nameInviteByKey(profile: Profile, inviteKey: string, name: string): string {
  profile.requireOwner('name an invitation');
  const clean = cleanName(name);
  profile.systemMap(INVITE_NAMES_MAP).set(inviteKey, clean);
  return clean;
}

/**
 * Says who this device is in the profile, if it has not already: a `name` and a `device-label`
 * audit entry (any member may write them), and for writers the name in `member-names` too. Does
 * nothing while the device is not (yet) a member. True when something was written.
 */
export async function announceSelf(profile: Profile, o: { name?: string; label?: string }): Promise<boolean> {
  // Opened from its cache, a profile knows its members only once its stored records are checked.
  await profile.whenVerified();
  if (profile.role === undefined) return false;
  const me = toHex(engineOf(profile).sync.signerKey);
  const said = announcements(profile);
  let wrote = false;
  if (o.name && said.names.get(me)?.text !== o.name) {
    await profile.audit('name', undefined, o.name);
    wrote = true;
  }
  if (o.label && said.labels.get(me)?.text !== o.label) {
    await profile.audit('device-label', undefined, o.label);
    wrote = true;
  }
  if (o.name && profile.canWrite && profile.displayNames().get(me) !== o.name) {
    profile.setDisplayName(o.name);
    wrote = true;
  }
  return wrote;
}

/**
 * Keeps this device announced in an open profile: now, and whenever membership or content
 * changes until it succeeds (a device whose certificate or role arrives later), and again when
 * `wanted` changes (a rename). Returns the stop function.
 */
export function keepAnnounced(profile: Profile, wanted: () => { name?: string; label?: string }): () => void {
  let done = '';
  let running = false;
  const attempt = (): void => {
    const w = wanted();
    const key = `${w.name ?? ''}\u0000${w.label ?? ''}`;
    if (running || key === done || profile.role === undefined) return;
    running = true;
    announceSelf(profile, w)
      .then(() => (done = key))
      .catch(() => undefined) // offline or refused: tried again on the next change
      .finally(() => (running = false));
  };
  const stop = profile.watch(attempt);
  attempt();
  return stop;
}

/** The person's name as their own vault keeps it (identity key hex), if set. */
export function personName(vault: Profile, identity: string): string | undefined {
  return vault.systemMap(MEMBER_NAMES_MAP).get(identity);
}

/** Writes the person's name into their own vault (every device of theirs reads it from there). */
export function setPersonName(vault: Profile, identity: string, name: string): string {
  const clean = cleanName(name);
  if (personName(vault, identity) !== clean) vault.systemMap(MEMBER_NAMES_MAP).set(identity, clean);
  return clean;
}
