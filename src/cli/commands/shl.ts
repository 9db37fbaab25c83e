/**
 * SMART Health Links from the command line (issue 12 item 3, docs/decisions/0031):
 *   vault share-link <alias> [--passcode P] [--expires 7d] [--label L]
 *   vault revoke-link <alias> <link or manifest id>
 * share-link catches up with the relay first (the IPS is then current, and the relay knows this
 * owner), builds and encrypts the IPS on this device, stores the ciphertext on the relay and
 * prints one JSON line: the viewer link (also what its QR code holds), the bare shlink, the
 * manifest id (for revoke-link), expiry and flags. The key is only in the printed link.
 */
import { manifestIdOf, revokeLink, shareLink } from '../../lib/vault/shl.ts';
import { need, type CliArgs } from '../args.ts';
import { openDevice, openProfile, requireOwner } from '../device.ts';
import { CliError } from '../errors.ts';
import { connectAndCatchUp, pushAll, type Deadline } from '../network.ts';
import { print } from '../output.ts';
import { relayFor } from './network.ts';

const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS };
/** Default and longest lifetime: a link is a copy of the record outside the family. */
export const DEFAULT_EXPIRES = '7d';
const MAX_LIFETIME_MS = 365 * DAY_MS;

/** `30m`, `12h`, `7d`, `2w` → milliseconds (at most a year). */
export function parseExpires(text: string): number {
  const m = /^(\d{1,4})([mhdw])$/.exec(text);
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!(ms > 0 && ms <= MAX_LIFETIME_MS)) throw new CliError('CLI_USAGE', '--expires is a lifetime like 30m, 12h, 7d or 2w, at most 365d');
  return ms;
}

export async function shareLinkCommand(a: CliArgs, deadline: Deadline): Promise<void> {
  const [alias] = need(a, 1, 'share-link <alias> [--passcode P] [--expires 7d] [--label L]');
  const expiresInMs = parseExpires(a.expires ?? DEFAULT_EXPIRES);
  if (a.passcode !== undefined && (a.passcode.length < 4 || a.passcode.length > 256)) throw new CliError('CLI_USAGE', '--passcode must be 4 to 256 characters');
  if (a.label !== undefined && [...a.label].length > 80) throw new CliError('CLI_USAGE', '--label is at most 80 characters');
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!, { relayUrl: relayFor(a, dev.ring.profile(alias!).relay) });
  try {
    const p = open.profile;
    await connectAndCatchUp(p, deadline);
    requireOwner(p, 'share it as a link');
    // The relay authorises the upload by the membership it holds: a profile made offline must
    // reach it first (its genesis), or this owner is not yet an owner there.
    await pushAll(p, deadline);
    // The upload is an HTTP call with its own timeout: the command's deadline bounds it too.
    const made = await deadline.race(shareLink(p, { passcode: a.passcode, expiresInMs, label: a.label }), 'storing the link on the relay');
    await pushAll(p, deadline); // the audit entry
    print({
      link: made.viewerLink,
      shlink: made.link,
      id: made.manifestId,
      expires: new Date(made.payload.exp! * 1000).toISOString(),
      flag: made.payload.flag ?? '',
    });
  } finally {
    await open.close();
  }
}

export async function revokeLinkCommand(a: CliArgs, deadline: Deadline): Promise<void> {
  const [alias, link] = need(a, 2, 'revoke-link <alias> <link or id>');
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!, { relayUrl: relayFor(a, dev.ring.profile(alias!).relay) });
  try {
    const p = open.profile;
    await connectAndCatchUp(p, deadline);
    requireOwner(p, 'revoke its links');
    const id = manifestIdOf(link!);
    await deadline.race(revokeLink(p, id), 'revoking the link on the relay');
    await pushAll(p, deadline);
    print({ revoked: id });
  } finally {
    await open.close();
  }
}
