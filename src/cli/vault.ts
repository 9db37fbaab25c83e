/**
 * Headless client over the same code the app uses. Local-first: every command works on the
 * device's encrypted store; only `sync`, `invite`, `accept`, `share-link`, `revoke-link` and `erase` talk
 * to the relay.
 *
 *   vault init                                   create this device's identity (asks for a passphrase)
 *   vault whoami                                 print this device's member code and safety code
 *   vault create <alias> [--relay URL] [--member CODE:ROLE ...]
 *   vault add-member <alias> <CODE> <ROLE>       (owners) roles: owner editor viewer
 *   vault members <alias>                        members, roles, devices, safety codes
 *   vault remove <alias> <MEMBER>                (owners) remove a member and change the key
 *   vault revoke <alias> <DEVICE>                (owners) revoke a member's device and change the key
 *   vault set <alias> <section> <key> <json>     vault get <alias> <section> [key]
 *   vault note <alias> <name> [--append TEXT]    read or append to a collaborative note
 *   vault sync <alias> [--relay URL] [--timeout S]   push and pull, then print the status
 *   vault invite <alias> <ROLE> [--minutes N] [--origin URL]   one-time invite link (clinician session with --minutes)
 *   vault accept <alias> <link> --relay URL      join a profile from an invite link with this device's keys
 *   vault audit <alias>                          the verified audit trail, one JSON line per entry
 *   vault import <alias> <file.json> [--force]   a FHIR R4 file (Bundle or resource) into the profile; prints one JSON line of counts
 *   vault export <alias> [--format json|fhir|ips|csv|pdf] [--out FILE] [--section vitals|labs|doses|journal]
 *                                                json (default), FHIR R4 collection, IPS document, CSV logs
 *   vault share-link <alias> [--passcode P] [--expires 7d] [--label L]   SMART Health Link to the IPS (owners)
 *   vault revoke-link <alias> <link or id>       (owners) the relay answers 404 from then on
 *   vault erase <alias> --confirm <alias>        (owners) delete the profile everywhere: the relay drops it, every device drops its copy
 *   vault status <alias>    vault list
 *   vault bundle <alias>    vault join <alias> <bundle>   access-bundle fallback for members without a lockbox
 *   vault backup [--out FILE] [--code-file F]    one encrypted archive of every profile; its recovery code to F (0600), or shown only on a terminal
 *   vault restore <file> [--force] [--code-file F]  bring a backup back into --dir (code from F, $VAULT_RECOVERY_CODE, else asked)
 * Options: --dir DIR (default $VAULT_DIR or ./.vault), --timeout S (network commands, default 20).
 * Passphrase: $VAULT_PASSPHRASE, else asked on the terminal.
 * Errors: one JSON line on stderr {"error":{"code","number","message"}}, exit 2 (usage) or 1.
 */
import { parseCli, type CliArgs } from './args.ts';
import { accept, invite, sync } from './commands/network.ts';
import { erase } from './commands/erase.ts';
import { importFile } from './commands/import.ts';
import { exportProfile } from './commands/export.ts';
import { revokeLinkCommand, shareLinkCommand } from './commands/shl.ts';
import { audit, get, note, set, status } from './commands/records.ts';
import { backup, restore } from './commands/backup.ts';
import { init, list, whoami } from './commands/identity.ts';
import { addMember, bundle, create, join, members, remove, revoke } from './commands/sharing.ts';
import { CliError, errorReport, exitCodeOf } from './errors.ts';
import { Deadline } from './network.ts';

type Command = (a: CliArgs, deadline: Deadline) => Promise<void>;

const COMMANDS: Record<string, Command> = {
  init,
  whoami,
  list,
  create,
  'add-member': addMember,
  members,
  remove,
  revoke,
  bundle,
  join,
  set,
  get,
  note,
  export: exportProfile,
  import: importFile,
  'share-link': shareLinkCommand,
  'revoke-link': revokeLinkCommand,
  status,
  audit,
  sync,
  invite,
  accept,
  backup,
  restore,
  erase,
};

/** Network commands get a watchdog a little past their deadline: whatever is stuck, the process ends with a typed error. */
const NETWORK = new Set(['sync', 'invite', 'accept', 'share-link', 'revoke-link', 'erase']);
const WATCHDOG_GRACE_MS = 5_000;

function fail(e: unknown): never {
  const report = errorReport(e);
  process.stderr.write(`${JSON.stringify({ error: report })}\n`);
  process.exit(exitCodeOf(report));
}

async function main(): Promise<void> {
  const a = parseCli(process.argv.slice(2), process.env);
  const run = a.command !== undefined && Object.hasOwn(COMMANDS, a.command) ? COMMANDS[a.command] : undefined;
  if (!run) throw new CliError('CLI_USAGE', `commands: ${Object.keys(COMMANDS).join(' ')}`);
  const deadline = new Deadline(a.timeoutMs);
  if (NETWORK.has(a.command!)) {
    setTimeout(() => fail(new CliError('CLI_TIMEOUT', `${a.command} did not finish within ${a.timeoutMs / 1000} s (--timeout)`)), a.timeoutMs + WATCHDOG_GRACE_MS).unref();
  }
  await run(a, deadline);
}

/**
 * Resolves once everything written to stdout so far has left the process. A pipe's writes are
 * asynchronous in Node: `process.exit` right after a large write (an export) cut it at a 64 KiB
 * boundary, with exit code 0, so `vault export mum | jq` got a truncated file that looked fine.
 */
function stdoutDrained(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

try {
  await main();
  await stdoutDrained();
  process.exit(0);
} catch (e) {
  await stdoutDrained().catch(() => undefined);
  fail(e);
}
