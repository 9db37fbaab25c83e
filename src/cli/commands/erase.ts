/**
 * `vault erase <alias> --confirm <alias>` (owners): deletes a profile everywhere (decision 0035).
 * The erase order goes to the relay, which drops the profile and refuses it from then on; this
 * device then drops its copy and keys. Other devices drop theirs when they learn of it: `sync`
 * meets PROFILE_ERASED, verifies the signed order (`confirmErasure`) and calls `dropErased`.
 *
 * The owner's audit trail was inside the profile and is gone with it, so each device notes the
 * erasure in `<dir>/erasures.jsonl`: the document id, when, and the owner key that ordered it
 * (no name, no content).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { confirmErasure, eraseProfile, type ConfirmedErasure } from '../../lib/vault/erase.ts';
import { need, type CliArgs } from '../args.ts';
import { openDevice, openProfile, type OpenDevice, type OpenProfile } from '../device.ts';
import { CliError } from '../errors.ts';
import { connectAndCatchUp, type Deadline } from '../network.ts';
import { print } from '../output.ts';

export async function erase(a: CliArgs, deadline: Deadline): Promise<void> {
  const [alias] = need(a, 1, 'erase <alias> --confirm <alias> [--relay URL]');
  if (a.confirm === undefined) throw new CliError('CLI_USAGE', 'erase needs --confirm <alias>: the profile name typed again');
  const dev = await openDevice(a);
  const relay = a.relay ?? dev.ring.profile(alias!).relay;
  if (!relay) throw new CliError('CLI_NO_RELAY', 'no relay URL: pass --relay ws://host:port');
  const open = await openProfile(dev, alias!, { relayUrl: relay });
  await connectAndCatchUp(open.profile, deadline);
  const order = await deadline.race(
    eraseProfile(open.profile, { expectedName: alias!, typedName: a.confirm, timeoutMs: deadline.remaining() }),
    'erasing the profile',
  ).catch(async (e: unknown) => {
    await open.close();
    throw e;
  });
  await dropErased(dev, alias!, open, { ...order, by: 'this device' });
}

/** Drops this device's copy and keys of an erased profile, and notes it in the local erasure log. */
export async function dropErased(dev: OpenDevice, alias: string, open: OpenProfile, order: ConfirmedErasure): Promise<void> {
  const name = open.profile.name;
  // Closed without writing the keyring back: the profile's keys are leaving it.
  await open.profile.close();
  open.store.log.erase(name);
  open.store.close();
  dev.ring.removeProfile(alias);
  appendFileSync(join(dev.dir, 'erasures.jsonl'), `${JSON.stringify({ profile: name, erasedAt: order.erasedAt, by: order.by, droppedAt: Date.now() })}\n`, { mode: 0o600 });
  print({ erased: name, erasedAt: order.erasedAt });
}

/** `sync` met PROFILE_ERASED: verify the owner's order against this copy, then drop it. */
export async function dropIfErased(dev: OpenDevice, alias: string, open: OpenProfile, deadline: Deadline): Promise<boolean> {
  if (open.profile.refusal.value !== 'PROFILE_ERASED') return false;
  // The tombstone request (GET /erased/<doc>) stays inside the command's deadline.
  const order = await deadline.race(confirmErasure(open.profile, { timeoutMs: deadline.remaining() }), 'confirming the erasure with the relay');
  await dropErased(dev, alias, open, order);
  return true;
}
