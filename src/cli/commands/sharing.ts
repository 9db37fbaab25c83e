/**
 * Who has access: `create`, `add-member`, `members`, `remove`, `revoke`, and the access-bundle
 * fallback (`bundle`, `join`). Members added with the code from `whoami` get lockboxes, so key
 * changes reach them; a bare signing key gets no lockbox and needs a bundle after every change.
 * Owner operations are local (local-first): they reach the relay with the next `sync`.
 */
import { fromBase64Url, toHex } from '../../lib/crypto/index.ts';
import { safetyCode } from '../../lib/crypto/safety-code.ts';
import { roleName } from '../../lib/vault/app.ts';
import { revokeDevice } from '../../lib/vault/person.ts';
import { Profile, type ProfileAccess } from '../../lib/vault/profile.ts';
import { exportBundle, importBundle } from '../access.ts';
import { need, parseMemberCode, parseMemberWithRole, parseRole, type CliArgs, type MemberCode } from '../args.ts';
import { openDevice, openProfile, openStore, requireOwner, requireReadable } from '../device.ts';
import { CliError } from '../errors.ts';
import { print, warn } from '../output.ts';
import { currentEpoch, identityOfDevice, membersOf } from '../profile-views.ts';

/** A profile's name: base64url of its 16-byte document id. */
const PROFILE_NAME = /^[A-Za-z0-9_-]{22}$/;

function addedLine(m: MemberCode, role: string): Record<string, unknown> {
  return { added: toHex(m.publicKey), role, lockbox: m.boxKey !== undefined, ...(m.boxKey ? { safetyCode: safetyCode(m.publicKey, m.boxKey) } : {}) };
}

function warnNoLockbox(m: MemberCode): void {
  if (!m.boxKey) warn('this member was given by signing key only: no lockbox reaches it, so it needs an access bundle ("vault bundle") now and after every key change; use the member code from "vault whoami" instead');
}

export async function create(a: CliArgs): Promise<void> {
  const [alias] = need(a, 1, 'create <alias> [--relay URL] [--member CODE:ROLE ...]');
  const members = a.members.map(parseMemberWithRole);
  const dev = await openDevice(a);
  if (dev.ring.aliases().includes(alias!)) throw new CliError('CLI_EXISTS', `a profile named "${alias}" already exists`);
  const store = openStore(dev.dir);
  const profile = await Profile.create({ signer: dev.ring.signer, box: dev.ring.box, persistence: store.persistence });
  // Added one by one after genesis, not in it: addMember (grant) sends each one its lockbox and
  // leaves an audit entry per member, which genesis members would not get.
  for (const m of members) await profile.addMember({ publicKey: m.publicKey, boxKey: m.boxKey, role: m.role, expiresAt: 0 });
  await profile.close();
  store.close();
  dev.ring.addProfile(alias!, profile.access, { relay: a.relay, hasLocalCopy: true });
  for (const m of members) {
    warnNoLockbox(m);
    print(addedLine(m, roleName(m.role) ?? String(m.role)));
  }
  print(profile.name);
}

export async function addMember(a: CliArgs): Promise<void> {
  const [alias, code, roleArg] = need(a, 3, 'add-member <alias> <CODE> <ROLE>');
  const member = parseMemberCode(code);
  const role = parseRole(roleArg);
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  requireOwner(open.profile, 'add people or change their role');
  await open.profile.addMember({ publicKey: member.publicKey, boxKey: member.boxKey, role, expiresAt: 0 });
  await open.close();
  warnNoLockbox(member);
  print(addedLine(member, roleArg!));
}

export async function members(a: CliArgs): Promise<void> {
  const [alias] = need(a, 1, 'members <alias>');
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  requireReadable(open.profile);
  for (const m of membersOf(open.profile)) print(m);
  await open.close();
}

/** A member by hex signing key or member code. */
function memberKeyArg(s: string | undefined): string {
  return toHex(parseMemberCode(s).publicKey);
}

export async function remove(a: CliArgs): Promise<void> {
  const [alias, who] = need(a, 2, 'remove <alias> <member key or code>');
  const hex = memberKeyArg(who);
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  const p = open.profile;
  requireOwner(p, 'remove people');
  const member = membersOf(p).find((m) => m.member === hex);
  if (!member) throw new CliError('CLI_UNKNOWN_MEMBER', 'no member with that key in this profile');
  await p.removeMember(parseMemberCode(who).publicKey);
  print({ removed: hex, epoch: currentEpoch(p) });
  await open.close();
}

export async function revoke(a: CliArgs): Promise<void> {
  const [alias, device] = need(a, 2, 'revoke <alias> <device key>');
  const key = parseMemberCode(device).publicKey;
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  const p = open.profile;
  requireOwner(p, 'revoke devices');
  if (identityOfDevice(p, toHex(key)) === undefined) throw new CliError('CLI_UNKNOWN_MEMBER', 'no device with that key in this profile');
  await revokeDevice(p, key);
  // The revoked device still holds the current key: a new epoch keeps it out of what follows.
  await p.audit('revoke', key, 'device');
  const epoch = await p.rotateKey();
  print({ revoked: toHex(key), epoch });
  await open.close();
}

export async function bundle(a: CliArgs): Promise<void> {
  const [alias] = need(a, 1, 'bundle <alias>');
  const dev = await openDevice(a);
  print(exportBundle(dev.ring.profile(alias!).access));
}

/**
 * A member added with its member code needs only the profile's name (what `create` prints):
 * its keys arrive by lockbox at the first sync. A bundle (the fallback) carries the keys itself.
 */
export async function join(a: CliArgs): Promise<void> {
  const [alias, text] = need(a, 2, 'join <alias> <profile name | bundle> [--relay URL]');
  const access: ProfileAccess = PROFILE_NAME.test(text!) ? { docId: fromBase64Url(text!), epoch: 0, epochKeys: new Map() } : importBundle(text!);
  const dev = await openDevice(a);
  dev.ring.addProfile(alias!, access, { relay: a.relay, hasLocalCopy: false });
  print('joined');
}
