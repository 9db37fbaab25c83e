/**
 * Reading and writing the profile: `set`, `get`, `note`, `status`, `audit` (`export` is in export.ts). Writes go
 * through the typed, validated record operations (src/lib/vault/records.ts) and are checked for
 * role and key before anything changes; reads refuse, typed, on a device that cannot read.
 */
import { LOG_SECTIONS, SECTIONS, isSection, type SectionName } from '../../lib/vault/health.ts';
import type { Profile } from '../../lib/vault/profile.ts';
import { need, type CliArgs } from '../args.ts';
import { openDevice, openProfile, requireReadable, requireWriter } from '../device.ts';
import { CliError } from '../errors.ts';
import { print } from '../output.ts';
import { canRead, identityOfDevice } from '../profile-views.ts';

const SECTION_LIST = [...Object.keys(SECTIONS).filter((s) => !s.startsWith('list:')), ...Object.keys(LOG_SECTIONS)].join(', ');

/** A health-record section by its CLI name: keyed sections as they are, logs as vitals, doses, journal. */
export function sectionOf(name: string | undefined): SectionName {
  const log = Object.hasOwn(LOG_SECTIONS, name ?? '') ? LOG_SECTIONS[name as keyof typeof LOG_SECTIONS] : undefined;
  if (log) return log;
  if (name && isSection(name) && !name.startsWith('list:')) return name;
  throw new CliError('CLI_UNKNOWN_SECTION', `not a health-record section; sections: ${SECTION_LIST}`);
}

function parseRecordJson(json: string | undefined, key: string, section: SectionName): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json ?? '');
  } catch {
    throw new CliError('CLI_BAD_JSON', 'the value must be JSON: a record object, e.g. \'{"resourceType":"AllergyIntolerance","code":{"text":"Penicillin"}}\'');
  }
  // Not an object: let the schema say so (RECORD_INVALID), the same error the app gets.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value as Record<string, unknown>;
  const record = { ...(value as Record<string, unknown>) };
  if (record.id !== undefined && record.id !== key) throw new CliError('CLI_USAGE', 'the record\'s "id" differs from <key>: leave it out, <key> is the id');
  // The key is the record's id; a record typed by hand is of the current schema version.
  record.id = key;
  record.schemaVersion ??= SECTIONS[section].schemaVersion;
  return record;
}

/** Seals the edit into this device's store (not connected: flush only seals; `sync` sends it). */
async function seal(p: Profile): Promise<void> {
  await p.flush();
}

export async function set(a: CliArgs): Promise<void> {
  const [alias, sectionName, key, json] = need(a, 4, 'set <alias> <section> <key> <json>');
  const section = sectionOf(sectionName);
  const record = parseRecordJson(json, key!, section);
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  requireWriter(open.profile);
  // Validates first: an invalid record throws RECORD_INVALID (with issue paths) and writes nothing.
  open.profile.records.put(section, record);
  await seal(open.profile);
  await open.close();
}

export async function get(a: CliArgs): Promise<void> {
  const [alias, sectionName, key] = need(a, 2, 'get <alias> <section> [key]', 3);
  const section = sectionOf(sectionName);
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  requireReadable(open.profile);
  const r = open.profile.records;
  print(key === undefined ? r.list(section) : (r.get(section, key) ?? null));
  await open.close();
}

export async function note(a: CliArgs): Promise<void> {
  const [alias, name] = need(a, 2, 'note <alias> <name> [--append TEXT]');
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  const p = open.profile;
  if (a.append === undefined) {
    requireReadable(p);
    print(p.note(name!).text);
  } else {
    requireWriter(p);
    const handle = p.note(name!);
    handle.replace(handle.text.length, 0, a.append);
    await seal(p);
  }
  await open.close();
}

export function statusLine(p: Profile): Record<string, unknown> {
  const s = p.status.value;
  return { state: s.state, pending: s.pending, gaps: s.gaps, problems: s.problems.map((x) => x.code), readable: canRead(p) };
}

export async function status(a: CliArgs): Promise<void> {
  const [alias] = need(a, 1, 'status <alias>');
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  print(statusLine(open.profile));
  // A device that cannot read says so in its exit status too (not yet synced is not a failure).
  if (canRead(open.profile) !== 'not-synced') requireReadable(open.profile);
  await open.close();
}

export async function audit(a: CliArgs): Promise<void> {
  const [alias] = need(a, 1, 'audit <alias>');
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  const p = open.profile;
  requireReadable(p);
  const trail = await p.auditTrail();
  for (const e of trail.events) {
    print({
      who: identityOfDevice(p, e.actor) ?? e.actor,
      what: e.kind,
      when: new Date(e.at).toISOString(),
      device: e.actor,
      ...(e.subject ? { subject: e.subject } : {}),
      ...(e.detail ? { detail: e.detail } : {}),
    });
  }
  const broken = trail.chains.filter((c) => !c.ok);
  for (const c of broken) process.stderr.write(`${JSON.stringify({ auditProblem: { device: c.actor, code: c.code, index: c.index, length: c.length } })}\n`);
  await open.close();
  if (broken.length > 0) throw new CliError('CLI_AUDIT_BROKEN', `${broken.length} device audit chain(s) failed verification; their entries are not shown`);
}
