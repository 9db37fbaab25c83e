/**
 * The share page's SMART Health Link panel (docs/decisions/0031): an owner makes a link to the
 * profile's IPS with a label, an expiry and an optional passcode, sees it once with its QR code,
 * and lists and revokes the links this profile's owners made (the list lives in the profile,
 * sealed and synced; src/lib/vault/shl.ts). The passcode is held only until the link is made and
 * shown once; the link (its key) only while this panel shows it, never in the profile's list.
 */
import { describeError, VaultError, type Profile } from '../vault/app.ts';
import { healthLinks, qrContent, revokeLink, shareLink, ShlError, watchHealthLinks, type HealthLinkEntry } from '../vault/shl.ts';
import { Subscribed } from './subscribed.svelte.ts';
import { formatWhen } from './when.ts';

const DAY_MS = 86_400_000;

/** The lifetimes offered, in days (the CLI's default is 7, its maximum 365). */
export const EXPIRY_CHOICES: ReadonlyArray<{ readonly days: number; readonly text: string }> = [
  { days: 1, text: '1 day' },
  { days: 7, text: '7 days' },
  { days: 30, text: '30 days' },
  { days: 90, text: '3 months' },
  { days: 365, text: '1 year' },
];

/** The link just made: shown once, gone when the panel closes, a new one is made, or it ends. */
export interface MadeHealthLink {
  readonly id: string;
  readonly label: string;
  /** The viewer link `<relay>/shl#shlink:/…`: the fragment holds the key and nothing else of the profile. */
  readonly link: string;
  /** What the QR code encodes (the viewer link, as the spec's QR rules allow). */
  readonly qr: string;
  readonly expiresAt: number;
  /** The passcode, shown once beside the link; undefined when none was set. */
  readonly passcode: string | undefined;
}

export interface HealthLinkShareOptions {
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  /** Draws a suggested passcode's characters (default: crypto.getRandomValues). */
  readonly randomBytes?: (n: number) => Uint8Array;
}

/** "9 Dec 2026, 21:20": the date is always shown, since links live for days (state/when.ts). */
export function formatUntil(ms: number, locale?: string): string {
  return formatWhen(ms, { locale });
}

/** As the CLI asks (`share-link --passcode`); the relay's cap on length is far above the field's 64. */
const MIN_PASSCODE_LENGTH = 4;

/** Letters and digits nobody confuses when reading them out (no 0/O, 1/l/I). */
const PASSCODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

export class HealthLinkShare {
  /** The lifetimes the form offers. */
  readonly choices = EXPIRY_CHOICES;
  label = $state('');
  expiryDays = $state(7);
  passcode = $state('');
  busy = $state(false);
  error = $state<string | null>(null);
  made = $state.raw<MadeHealthLink | null>(null);
  private readonly profile: Profile;
  private readonly o: HealthLinkShareOptions;
  private readonly listSub: Subscribed<unknown>;

  constructor(profile: Profile, o: HealthLinkShareOptions = {}) {
    this.profile = profile;
    this.o = o;
    // Another owner device's link or revocation arrives as a profile change and an audit record.
    this.listSub = new Subscribed((n) => watchHealthLinks(profile, n), () => null);
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** When a link made now would end, for the form's "until …". */
  expiresAt(now: number = this.now()): number {
    return now + this.expiryDays * DAY_MS;
  }

  /** "9 Dec 2026, 21:20" in the reader's locale. */
  until(ms: number): string {
    return formatUntil(ms);
  }

  /** This profile's links, newest first, with their status at `now`. */
  links(now: number = this.now()): HealthLinkEntry[] {
    this.listSub.read();
    return healthLinks(this.profile, now);
  }

  /** The link just made, or null once it was revoked or has expired (its QR code goes with it). */
  shown(now: number = this.now()): MadeHealthLink | null {
    const made = this.made;
    if (!made) return null;
    const listed = this.links(now).find((l) => l.id === made.id);
    return listed && listed.status !== 'active' ? null : made;
  }

  /** Fills the passcode field with a random 10-character one (about 49 bits). */
  suggestPasscode(): void {
    const draw = this.o.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)));
    // Bytes at or over the largest multiple of the alphabet's size are drawn again (no modulo bias).
    const limit = 256 - (256 % PASSCODE_ALPHABET.length);
    let out = '';
    while (out.length < 10) for (const b of draw(10 - out.length)) if (b < limit) out += PASSCODE_ALPHABET[b % PASSCODE_ALPHABET.length];
    this.passcode = out;
  }

  async create(): Promise<MadeHealthLink | null> {
    if (this.busy) return null;
    const label = this.label.trim();
    const passcode = this.passcode === '' ? undefined : this.passcode;
    if (passcode !== undefined && [...passcode].length < MIN_PASSCODE_LENGTH) {
      this.error = `A passcode needs at least ${MIN_PASSCODE_LENGTH} characters (or none at all).`;
      return null;
    }
    this.busy = true;
    this.error = null;
    this.made = null;
    // The field is cleared at once: from here the passcode lives only in this call and, once
    // the link exists, in the result shown once.
    this.passcode = '';
    try {
      // The relay must know this profile (and this owner) before it stores a link for it.
      await this.profile.status.when((st) => st.synced, 15_000).catch(() => {
        throw new VaultError('RELAY_UNREACHABLE', 'sharing a link needs a connection to the relay; try again when online');
      });
      const made = await shareLink(this.profile, {
        label: label === '' ? undefined : label,
        expiresInMs: this.expiryDays * DAY_MS,
        passcode,
        now: this.o.now,
        fetch: this.o.fetch,
      });
      const link = made.viewerLink ?? made.link;
      this.made = { id: made.manifestId, label, link, qr: qrContent(link), expiresAt: (made.payload.exp ?? 0) * 1000, passcode };
      this.label = '';
      return this.made;
    } catch (e) {
      this.error = messageOf(e);
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** Hides the link just made (its passcode with it); it keeps working until revoked or expired. */
  dismiss(): void {
    this.made = null;
  }

  async revoke(id: string): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.error = null;
    try {
      await revokeLink(this.profile, id, { fetch: this.o.fetch, now: this.o.now });
      if (this.made?.id === id) this.made = null;
      return true;
    } catch (e) {
      this.error = messageOf(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}

/** Messages carry no link, key, passcode or content (ShlError and VaultError messages are written so). */
function messageOf(e: unknown): string {
  return e instanceof ShlError ? e.message : describeError(e);
}
