/**
 * The commands that talk to the relay: `sync`, `invite`, `accept`. Each has one deadline
 * (--timeout, default 20 s) that covers connecting, catching up and sending, and ends in a typed
 * error (src/cli/network.ts). A --relay URL is saved only after it worked.
 */
import { acceptInvitation, createInvitation } from '../../lib/vault/invite.ts';
import { need, parseRole, type CliArgs } from '../args.ts';
import { openDevice, openProfile, openStore, requireOwner, requireReadable } from '../device.ts';
import { CliError } from '../errors.ts';
import { connectAndCatchUp, Deadline, pushAll } from '../network.ts';
import { print } from '../output.ts';
import { accessNow, canRead, hasGenesis } from '../profile-views.ts';
import { statusLine } from './records.ts';
import { dropIfErased } from './erase.ts';

/** The relay a network command talks to: --relay, else the one stored with the profile. */
export function relayFor(a: CliArgs, stored: string | undefined): string {
  const relay = a.relay ?? stored;
  if (!relay) throw new CliError('CLI_NO_RELAY', 'no relay URL: pass --relay ws://host:port');
  return relay;
}

export async function sync(a: CliArgs, deadline: Deadline): Promise<void> {
  const [alias] = need(a, 1, 'sync <alias> [--relay URL] [--timeout S]');
  const dev = await openDevice(a);
  const relay = relayFor(a, dev.ring.profile(alias!).relay);
  const open = await openProfile(dev, alias!, { relayUrl: relay });
  const p = open.profile;
  try {
    await connectAndCatchUp(p, deadline);
  } catch (e) {
    // An owner erased the profile: drop this copy once the signed order verifies here.
    if (await dropIfErased(dev, alias!, open, deadline)) return;
    throw e;
  }
  // Records sealed offline (set, note, owner operations) go out now.
  const status = await pushAll(p, deadline);
  dev.ring.updateProfile(alias!, accessNow(p), { relay: a.relay, hasLocalCopy: hasGenesis(p) });
  print(statusLine(p));
  await deadline.race(open.close(), 'closing the profile');
  if (status.state === 'error') throw new CliError('CLI_SYNC_FAILED', 'sync finished with problems (see status)', { problems: status.problems.map((x) => x.code) });
  // Synced, yet unreadable here: say so (issue 10: this used to be "pending", exit 0, and an empty export).
  if (canRead(p) !== 'ok') requireReadable(p);
}

export async function invite(a: CliArgs, deadline: Deadline): Promise<void> {
  const [alias, roleArg] = need(a, 2, 'invite <alias> <ROLE> [--minutes N] [--origin URL]');
  const role = parseRole(roleArg);
  const minutes = a.minutes === undefined ? 0 : Number(a.minutes);
  if (!Number.isFinite(minutes) || minutes < 0 || minutes > 12 * 60) throw new CliError('CLI_USAGE', '--minutes is a number between 1 and 720');
  const dev = await openDevice(a);
  const relay = relayFor(a, dev.ring.profile(alias!).relay);
  const open = await openProfile(dev, alias!, { relayUrl: relay });
  const p = open.profile;
  await connectAndCatchUp(p, deadline);
  requireOwner(p, minutes > 0 ? 'start a session' : 'invite people');
  const invitation = await deadline.race(
    createInvitation(p, {
      origin: a.origin ?? relay.replace(/^ws/, 'http'),
      role,
      accessForMs: minutes > 0 ? minutes * 60_000 : undefined,
      validForMs: minutes > 0 ? Math.min(15, minutes) * 60_000 : undefined,
    }),
    'creating the invite',
  );
  await pushAll(p, deadline);
  dev.ring.updateProfile(alias!, accessNow(p), { relay: a.relay, hasLocalCopy: true });
  await deadline.race(open.close(), 'closing the profile');
  print(invitation.link);
}

export async function accept(a: CliArgs, deadline: Deadline): Promise<void> {
  const [alias, link] = need(a, 2, 'accept <alias> <link> --relay URL');
  if (!a.relay) throw new CliError('CLI_NO_RELAY', 'pass --relay ws://host:port');
  const dev = await openDevice(a);
  if (dev.ring.aliases().includes(alias!)) throw new CliError('CLI_EXISTS', `a profile named "${alias}" already exists`);
  const store = openStore(dev.dir);
  const profile = await deadline.race(
    acceptInvitation(link!, { signer: dev.ring.signer, box: dev.ring.box, relayUrl: a.relay, persistence: store.persistence, timeoutMs: deadline.remaining() }),
    'accepting the invite',
  );
  await pushAll(profile, deadline);
  dev.ring.addProfile(alias!, accessNow(profile), { relay: a.relay, hasLocalCopy: true });
  await deadline.race(profile.close(), 'closing the profile');
  store.close();
  print('joined');
}
