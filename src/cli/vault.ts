/**
 * Headless client over the same code the app uses. Local-first: every command works on the
 * device's encrypted store; only `sync` talks to the relay.
 *
 *   vault init                                   create this device's identity
 *   vault whoami                                 print this device's public key
 *   vault create <alias> [--relay URL] [--member KEY:ROLE ...]
 *   vault bundle <alias>                         print an access bundle for another member's device
 *   vault join <alias> <bundle> [--relay URL]    add a profile from a bundle
 *   vault add-member <alias> <KEY> <ROLE>        (owners) roles: owner editor viewer
 *   vault set <alias> <section> <key> <json>     vault get <alias> <section> [key]
 *   vault note <alias> <name> [--append TEXT]    read or append to a collaborative note
 *   vault sync <alias> [--relay URL] [--timeout S]   push and pull, then print the status
 *   vault invite <alias> <ROLE> [--minutes N] [--origin URL]   print a one-time invite link (clinician session with --minutes)
 *   vault accept <alias> <link> --relay URL      join a profile from an invite link with this device's keys
 *   vault status <alias>                         vault export <alias>     (decrypted JSON)
 * Options: --dir DIR (default $VAULT_DIR or ./.vault)
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { fromHex, toHex, asSigningPublicKey } from '../lib/crypto/index.ts';
import { Role, type RoleName } from '../lib/protocol/index.ts';
import { sqlitePersistence } from '../lib/storage/node.ts';
import { Profile, type JsonValue } from '../lib/vault/profile.ts';
import { isSection, SECTION_NAMES } from '../lib/vault/health.ts';
import { CliError } from './errors.ts';
import { exportBundle, importBundle, Keyring } from './keyring.ts';
import { acceptInvitation, createInvitation, InviteError } from '../lib/vault/invite.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    dir: { type: 'string' },
    relay: { type: 'string' },
    member: { type: 'string', multiple: true },
    minutes: { type: 'string' },
    origin: { type: 'string' },
    append: { type: 'string' },
    timeout: { type: 'string' },
  },
});

const dir = values.dir ?? process.env.VAULT_DIR ?? './.vault';
const [command, ...args] = positionals;

function need(n: number, usage: string): string[] {
  if (args.length < n) throw new CliError('CLI_USAGE', `usage: vault ${usage}`);
  return args;
}

function parseRole(name: string | undefined): (typeof Role)[RoleName] {
  if (!name || !(name in Role)) throw new CliError('CLI_USAGE', `role must be one of: ${Object.keys(Role).join(', ')}`);
  return Role[name as RoleName];
}

function parseKey(hex: string | undefined) {
  try {
    return asSigningPublicKey(fromHex(hex ?? ''));
  } catch {
    throw new CliError('CLI_USAGE', 'a member key is 64 hex characters (see "vault whoami")');
  }
}

async function withProfile<T>(alias: string, body: (p: Profile, ring: Keyring) => Promise<T>, relayUrl?: string): Promise<T> {
  const ring = Keyring.load(dir);
  const { access } = ring.profile(alias);
  const store = sqlitePersistence(join(dir, 'store'));
  const profile = await Profile.open({ signer: ring.signer, box: ring.box, access, persistence: store.persistence, relayUrl, autoConnect: false });
  try {
    return await body(profile, ring);
  } finally {
    await profile.close();
    store.close();
  }
}

function printStatus(p: Profile): void {
  const s = p.status.value;
  console.log(JSON.stringify({ state: s.state, pending: s.pending, gaps: s.gaps, problems: s.problems.map((x) => x.code) }));
}

async function main(): Promise<void> {
  switch (command) {
    case 'init': {
      const ring = Keyring.init(dir);
      console.log(toHex(ring.signer.publicKey));
      return;
    }
    case 'whoami':
      console.log(toHex(Keyring.load(dir).signer.publicKey));
      return;
    case 'create': {
      const [alias] = need(1, 'create <alias> [--relay URL] [--member KEY:ROLE]');
      const ring = Keyring.load(dir);
      const members = (values.member ?? []).map((m) => {
        const [key, role] = m.split(':');
        return { publicKey: parseKey(key), role: parseRole(role), expiresAt: 0 };
      });
      const store = sqlitePersistence(join(dir, 'store'));
      const profile = await Profile.create({ signer: ring.signer, box: ring.box, members, persistence: store.persistence });
      ring.addProfile(alias!, profile.access, values.relay);
      await profile.close();
      store.close();
      console.log(profile.name);
      return;
    }
    case 'bundle': {
      const [alias] = need(1, 'bundle <alias>');
      console.log(exportBundle(Keyring.load(dir).profile(alias!).access));
      return;
    }
    case 'join': {
      const [alias, bundle] = need(2, 'join <alias> <bundle> [--relay URL]');
      Keyring.load(dir).addProfile(alias!, importBundle(bundle!), values.relay);
      console.log('joined');
      return;
    }
    case 'add-member': {
      const [alias, key, role] = need(3, 'add-member <alias> <KEY> <ROLE>');
      await withProfile(alias!, (p) => p.addMember({ publicKey: parseKey(key), role: parseRole(role), expiresAt: 0 }));
      console.log('added');
      return;
    }
    case 'set': {
      const [alias, section, key, json] = need(4, 'set <alias> <section> <key> <json>');
      let value: JsonValue;
      try {
        value = JSON.parse(json!) as JsonValue;
      } catch {
        throw new CliError('CLI_BAD_JSON', 'the value must be JSON (quote strings: \'"text"\')');
      }
      if (!isSection(section!)) throw new CliError('CLI_USAGE', `unknown section: ${section} (one of ${SECTION_NAMES.join(', ')})`);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new CliError('CLI_BAD_JSON', 'the value must be a JSON object (a record of that section)');
      await withProfile(alias!, async (p) => {
        // Validated through the section's schema: an invalid record is a typed error, nothing written.
        p.records.put(section!, { ...value, id: key! });
        await p.flush();
      });
      return;
    }
    case 'get': {
      const [alias, section, key] = need(2, 'get <alias> <section> [key]');
      await withProfile(alias!, async (p) => {
        const out = key === undefined ? p.toJSON()[section!] : p.getField(section!, key);
        console.log(JSON.stringify(out ?? null));
      });
      return;
    }
    case 'note': {
      const [alias, name] = need(2, 'note <alias> <name> [--append TEXT]');
      await withProfile(alias!, async (p) => {
        if (values.append !== undefined) {
          p.note(name!).replace(p.readNote(name!).length, 0, values.append);
          await p.flush();
        } else console.log(p.readNote(name!));
      });
      return;
    }
    case 'sync': {
      const [alias] = need(1, 'sync <alias> [--relay URL] [--timeout S]');
      const ring = Keyring.load(dir);
      const relay = values.relay ?? ring.profile(alias!).relay;
      if (!relay) throw new CliError('CLI_NO_RELAY', 'no relay URL: pass --relay ws://host:port');
      if (values.relay) ring.setRelay(alias!, values.relay);
      const timeoutMs = Number(values.timeout ?? 20) * 1000;
      await withProfile(
        alias!,
        async (p) => {
          await p.connect();
          try {
            await p.status.when((s) => s.synced || s.state === 'error', timeoutMs);
            await p.flush(timeoutMs);
            await p.flush();
          } catch {
            printStatus(p);
            throw new CliError('CLI_SYNC_FAILED', 'could not finish syncing with the relay in time');
          }
          printStatus(p);
          if (p.status.value.state === 'error') throw new CliError('CLI_SYNC_FAILED', 'sync finished with problems (see status)');
        },
        relay,
      );
      return;
    }
    case 'invite': {
      const [alias, role] = need(2, 'invite <alias> <ROLE> [--minutes N] [--origin URL]');
      const ring = Keyring.load(dir);
      const relay = values.relay ?? ring.profile(alias!).relay;
      if (!relay) throw new CliError('CLI_NO_RELAY', 'no relay URL: pass --relay ws://host:port');
      await withProfile(
        alias!,
        async (p) => {
          await p.connect();
          await p.status.when((s) => s.synced || s.state === 'error', 20_000);
          const minutes = values.minutes ? Number(values.minutes) : 0;
          const invitation = await createInvitation(p, {
            origin: values.origin ?? relay.replace(/^ws/, 'http'),
            role: parseRole(role),
            accessForMs: minutes > 0 ? minutes * 60_000 : undefined,
            validForMs: minutes > 0 ? Math.min(15, minutes) * 60_000 : undefined,
          });
          console.log(invitation.link);
        },
        relay,
      );
      return;
    }
    case 'accept': {
      const [alias, link] = need(2, 'accept <alias> <link> --relay URL');
      if (!values.relay) throw new CliError('CLI_NO_RELAY', 'pass --relay ws://host:port');
      const ring = Keyring.load(dir);
      const store = sqlitePersistence(join(dir, 'store'));
      try {
        const profile = await acceptInvitation(link!, { signer: ring.signer, box: ring.box, relayUrl: values.relay, persistence: store.persistence });
        await profile.flush();
        ring.addProfile(alias!, profile.accessBundle(), values.relay);
        await profile.close();
        console.log('joined');
      } catch (e) {
        if (e instanceof InviteError) throw new CliError('CLI_INVITE', `${e.code}: ${e.message}`);
        throw e;
      } finally {
        store.close();
      }
      return;
    }
    case 'status':
      await withProfile(need(1, 'status <alias>')[0]!, async (p) => printStatus(p));
      return;
    case 'export':
      await withProfile(need(1, 'export <alias>')[0]!, async (p) => console.log(JSON.stringify(p.toJSON(), null, 2)));
      return;
    case 'list':
      for (const a of Keyring.load(dir).aliases()) console.log(a);
      return;
    default:
      throw new CliError('CLI_USAGE', 'commands: init whoami create bundle join invite accept add-member set get note sync status export list');
  }
}

try {
  await main();
  process.exit(0);
} catch (e) {
  if (e instanceof CliError) {
    console.error(`error ${e.code}: ${e.message}`);
    process.exit(e.code === 'CLI_USAGE' ? 2 : 1);
  }
  console.error(`error CLI_INTERNAL: ${(e as Error).name}`);
  process.exit(1);
}
