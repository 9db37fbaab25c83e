/**
 * Invites and live clinician sessions, as links whose secret sits in the URL fragment:
 *   <origin>/#/join/<document name>.<base64url secret>
 * The fragment never reaches a server (no Referer either: the app sends no-referrer).
 */
import {
  defaultEd25519Engine,
  fromBase64Url,
  secureRandom,
  toBase64Url,
  toHex,
  type BoxKeyPair,
  type RandomSource,
  type SigningKeyPair,
  type SymmetricKey,
} from '../crypto/index.ts';
import { INVITE_SECRET_LENGTH, inviteKeysFromSecret, Role, signAccept, type Invite, type MemberEntry, type RoleCode } from '../protocol/index.ts';
import { invite } from '../sync/admin.ts';
import { VaultError, type VaultErrorCode } from './errors.ts';
import { Profile, type OpenProfileOptions } from './profile.ts';
import { engineOf } from './engine.ts';

/** The vault codes an invite fails with (numbers: VaultErrors). */
export type InviteErrorCode = Extract<VaultErrorCode, 'INVITE_MALFORMED' | 'INVITE_REFUSED' | 'INVITE_NO_KEY' | 'INVITE_TIMEOUT' | 'RELAY_NOT_CONFIGURED'>;

/**
 * Invite failures: VaultErrors with INVITE_* codes. When the relay refused with a stable code,
 * `reason` carries it: INVITE_USED (someone else accepted first), INVITE_EXPIRED, INVITE_KEY_TAKEN, …
 */
export class InviteError extends VaultError {
  readonly reason: string | undefined;
  constructor(code: InviteErrorCode, message: string, reason?: string) {
    super(code, message);
    this.reason = reason;
  }
}

export interface Invitation {
  readonly link: string;
  readonly role: RoleCode;
  /** When the link stops working (single use before that). */
  readonly inviteExpiresAt: number;
  /** When the access it grants ends (0 = never). */
  readonly memberExpiresAt: number;
  /** The invite key (hex), to follow the invite's state (open, used, expired). */
  readonly inviteKey: string;
}

export type InviteState = 'open' | 'used' | 'expired' | 'unknown';

/** Where an invite stands in the profile's verified membership (the share screen drops a used link's QR). */
export function inviteState(profile: Profile, inviteKey: string, now = Date.now()): InviteState {
  const i = profile.membershipState().invites.get(inviteKey);
  if (!i) return 'unknown';
  if (i.used) return 'used';
  return i.invite.inviteExpiresAt <= now ? 'expired' : 'open';
}

export function formatInviteLink(origin: string, docName: string, secret: Uint8Array): string {
  return `${origin.replace(/\/$/, '')}/#/join/${docName}.${toBase64Url(secret)}`;
}

export function parseInviteLink(link: string): { docId: Uint8Array; secret: Uint8Array } {
  const m = /#\/join\/([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(link.trim());
  if (!m) throw new InviteError('INVITE_MALFORMED', 'that is not an invite link');
  try {
    const docId = fromBase64Url(m[1]!);
    const secret = fromBase64Url(m[2]!);
    if (docId.length !== 16 || secret.length !== INVITE_SECRET_LENGTH) throw new Error('length');
    return { docId, secret };
  } catch {
    throw new InviteError('INVITE_MALFORMED', 'that is not an invite link');
  }
}

/**
 * Owner: invite someone with a role. Full members see the whole history; `history: false`
 * (the default for clinicians) rotates first, so the invitee sees the current state only.
 */
export async function createInvitation(
  profile: Profile,
  o: { origin: string; role: RoleCode; validForMs?: number; accessForMs?: number; history?: boolean; now?: () => number; random?: RandomSource },
): Promise<Invitation> {
  // Before anything is derived, sealed or rotated (a rotation adds a key to the ring first).
  profile.requireOwner(o.accessForMs ? 'start a session' : 'invite people');
  const now = (o.now ?? Date.now)();
  const secret = (o.random ?? secureRandom)(INVITE_SECRET_LENGTH);
  const memberExpiresAt = o.accessForMs ? now + o.accessForMs : 0;
  const inviteExpiresAt = now + (o.validForMs ?? 24 * 3600 * 1000);
  await invite(engineOf(profile).sync, { secret, role: o.role, memberExpiresAt, inviteExpiresAt, history: o.history ?? o.role !== Role.clinician });
  await profile.audit(memberExpiresAt ? 'session-start' : 'grant', inviteKeysFromSecret(secret).signing.publicKey, `role ${o.role}`);
  await profile.flush();
  const inviteKey = toHex(inviteKeysFromSecret(secret).signing.publicKey);
  return { link: formatInviteLink(o.origin, profile.name, secret), role: o.role, inviteExpiresAt, memberExpiresAt, inviteKey };
}

/**
 * Owner: a live, time-limited session for a clinician during an appointment (QR code = the
 * link). The clinician sees the current state and what happens next, may add notes if
 * `canEdit`, and is cut off by the relay at the end; an owner device then rotates the key.
 */
export function startClinicianSession(profile: Profile, o: { origin: string; minutes: number; canEdit?: boolean; now?: () => number }) {
  const minutes = Math.max(1, Math.min(o.minutes, 12 * 60));
  return createInvitation(profile, {
    origin: o.origin,
    role: o.canEdit ? Role.editor : Role.clinician,
    accessForMs: minutes * 60_000,
    validForMs: Math.min(15, minutes) * 60_000,
    history: false,
    now: o.now,
  });
}

/**
 * Invitee: accept a link with this device's own keys. Authenticates once as the invite key,
 * reads the lockbox addressed to it, writes `accept` binding `signer`/`box` (with a proof signed
 * by `signer`), then opens the profile as itself. Used, expired and forged links are refused by
 * the relay; if another device accepted the same link first this fails at once with reason
 * INVITE_USED.
 */
export async function acceptInvitation(
  link: string,
  o: Omit<OpenProfileOptions, 'access' | 'signer' | 'box'> & {
    signer: SigningKeyPair;
    box: BoxKeyPair;
    relayUrl: string;
    timeoutMs?: number;
  },
): Promise<Profile> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const { asInvite, docId, invite, granted } = await openAsInvite(link, o);
  try {
    // Keys in memory only (a guest, `memoryOnly`): an invite whose access never ends is refused
    // (GUEST_NEEDS_SESSION) before anything is written, so the link stays unused and no member
    // is left that nobody can use once the tab closes (docs/decisions/0039).
    if (o.memoryOnly && grantsLastingAccess(granted)) {
      throw new VaultError('GUEST_NEEDS_SESSION', 'this invite is for a lasting membership: create your vault on this device to join, so the access is kept');
    }
    const epoch = engineOf(asInvite).sync.currentEpoch;
    const member: MemberEntry = { publicKey: o.signer.publicKey, boxKey: o.box.publicKey, role: granted.role, expiresAt: granted.memberExpiresAt };
    const engine = o.engine ?? (await defaultEd25519Engine());
    await engineOf(asInvite).sync.appendMembership(await signAccept({ docId, inviteKey: invite.signing.publicKey, member, memberKey: o.signer, engine }));
    await settleAccept(asInvite, timeoutMs);
    const epochKeys = new Map<number, SymmetricKey>(engineOf(asInvite).sync.keys.entries());
    await asInvite.close();
    const profile = await Profile.open({ ...o, access: { docId, epoch, epochKeys } });
    // Audit entries are sealed under the current epoch: catch up with the relay first.
    await profile.status.when((s) => s.synced, timeoutMs);
    await engineOf(profile).sync.flush();
    await profile.audit('join', undefined, `role ${granted.role}`);
    if (granted.memberExpiresAt !== 0) await profile.audit('clinician-view');
    return profile;
  } catch (e) {
    await asInvite.close().catch(() => undefined);
    throw e;
  }
}

/** What an invite grants, read before accepting it (the join screen chooses its path from it). */
export interface InvitePreview {
  readonly role: RoleCode;
  /** When the access it grants ends (0 = never: a lasting membership, not a session). */
  readonly memberExpiresAt: number;
  /** When the link stops working. */
  readonly inviteExpiresAt: number;
}

/**
 * Reads an invite without using it: authenticates as the invite key, reads the invite entry and
 * closes, writing nothing, so the link stays unused (docs/decisions/0039). A used, expired or
 * unknown link is refused here already (INVITE_REFUSED), before the device creates anything.
 */
export async function previewInvitation(
  link: string,
  o: Pick<OpenProfileOptions, 'minReconnectDelayMs' | 'now'> & { relayUrl: string; timeoutMs?: number },
): Promise<InvitePreview> {
  const { asInvite, granted } = await openAsInvite(link, o);
  await asInvite.close();
  return { role: granted.role, memberExpiresAt: granted.memberExpiresAt, inviteExpiresAt: granted.inviteExpiresAt };
}

/** An invite's access never ends: only a device that keeps its keys should take it (not a memory-only guest). */
export function grantsLastingAccess(invite: Pick<InvitePreview, 'memberExpiresAt'>): boolean {
  return invite.memberExpiresAt === 0;
}

/**
 * Opens the profile as the invite key (memory only) and waits for the relay's answer and the
 * invite's lockbox. The caller closes `asInvite` (it is closed here on failure).
 */
async function openAsInvite(
  link: string,
  o: Pick<OpenProfileOptions, 'minReconnectDelayMs' | 'now'> & { relayUrl: string; timeoutMs?: number },
): Promise<{ asInvite: Profile; docId: Uint8Array; invite: ReturnType<typeof inviteKeysFromSecret>; granted: Invite }> {
  const { docId, secret } = parseInviteLink(link);
  const invite = inviteKeysFromSecret(secret);
  const timeoutMs = o.timeoutMs ?? 15_000;
  const asInvite = await Profile.open({
    relayUrl: o.relayUrl,
    minReconnectDelayMs: o.minReconnectDelayMs,
    now: o.now,
    signer: invite.signing,
    box: invite.box,
    access: { docId, epoch: 0, epochKeys: new Map() },
  });
  try {
    const first = await asInvite.status.when((s) => s.synced || s.state === 'error', timeoutMs).catch(() => undefined);
    if (!first) throw new InviteError('INVITE_TIMEOUT', 'the relay did not answer in time');
    if (first.state === 'error' && !first.synced) {
      const reason = engineOf(asInvite).connection?.refusal.value ?? undefined;
      throw new InviteError('INVITE_REFUSED', 'this invite is not valid: it was used, it expired, or it never existed', reason);
    }
    await engineOf(asInvite).sync.flush();
    const granted = engineOf(asInvite).sync.index.membership.invite(invite.signing.publicKey);
    const epoch = engineOf(asInvite).sync.currentEpoch;
    if (!granted || !engineOf(asInvite).sync.keys.has(epoch)) throw new InviteError('INVITE_NO_KEY', 'the invite carries no key for this profile');
    return { asInvite, docId, invite, granted };
  } catch (e) {
    await asInvite.close().catch(() => undefined);
    throw e;
  }
}

/**
 * Waits for the relay's verdict on the accept just written: acknowledged (success), or the
 * connection closed with a stable code. Once an accept lands the used invite key is no longer
 * a principal and the relay closes its connections (TOKEN_NOT_MEMBER): after our accept was
 * acknowledged that is success; before, another accept used the invite first (the relay
 * acknowledges an applied update before it closes the connection), which is INVITE_USED. So is
 * the relay refusing our accept as INVITE_USED, or as RECORD_FORK: an invite key writes nothing
 * but its one accept (seq 1), so a fork of its chain is another holder's accept that came first.
 * Never waits for a timeout once the relay has answered.
 */
async function settleAccept(asInvite: Profile, timeoutMs: number): Promise<void> {
  const c = engineOf(asInvite).connection;
  if (!c) throw new InviteError('RELAY_NOT_CONFIGURED', 'joining needs a connection to the relay');
  await engineOf(asInvite).sync.flush();
  const answered = await new Promise<boolean>((resolve) => {
    const stops: Array<() => void> = [];
    const done = (value: boolean) => {
      clearTimeout(timer);
      queueMicrotask(() => stops.forEach((stop) => stop()));
      resolve(value);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    stops.push(asInvite.status.subscribe((s) => s.pending === 0 && s.synced && done(true)));
    stops.push(c.refusal.subscribe((r) => r !== null && done(true)));
  });
  const refusal = c.refusal.value;
  const acknowledged = asInvite.status.value.pending === 0;
  if (acknowledged && (refusal === null || refusal === 'TOKEN_NOT_MEMBER')) return;
  if (refusal === 'TOKEN_NOT_MEMBER' || refusal === 'INVITE_USED' || refusal === 'RECORD_FORK') {
    throw new InviteError('INVITE_REFUSED', 'someone else accepted this invite first', 'INVITE_USED');
  }
  if (refusal !== null) throw new InviteError('INVITE_REFUSED', `the relay refused the acceptance (${refusal})`, refusal);
  if (!answered) throw new InviteError('INVITE_TIMEOUT', 'the relay did not acknowledge the acceptance in time');
  throw new InviteError('INVITE_REFUSED', 'the relay did not take the acceptance');
}
