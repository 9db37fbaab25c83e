/**
 * `vault import <alias> <file.json> [--force] [--relay URL]`: a FHIR R4 file into the profile
 * (issue 12, docs/decisions/0029, 0037), printed as one JSON line of counts:
 * `{"resources","records","unchanged","kept","rejected"}` exactly as the issue states them, plus
 * `"conflicts": n` last, only when an import met records edited here since (n > 0). Nothing of
 * the file's content is printed: sections, resource types, entry indexes and codes only.
 *
 * With a relay (`--relay`, or the one this profile syncs with) the import takes the app's path
 * for documents: inline attachments are sealed and stored in the relay's blob store, the profile
 * keeps only their keys. Without one they stay kept verbatim in the encrypted profile.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { VaultError } from '../../lib/vault/errors.ts';
import { importFhir, MAX_IMPORT_BYTES } from '../../lib/vault/fhir-import.ts';
import { need, type CliArgs } from '../args.ts';
import { openDevice, openProfile, requireWriter } from '../device.ts';
import { CliError } from '../errors.ts';
import { print } from '../output.ts';

export async function importFile(a: CliArgs): Promise<void> {
  const [alias, file] = need(a, 2, 'import <alias> <file.json> [--force] [--relay URL]');
  const bytes = await readInput(file!);
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!, { relayUrl: a.relay ?? dev.ring.profile(alias!).relay });
  try {
    requireWriter(open.profile);
    const r = await importFhir(open.profile, bytes, { fileName: basename(file!), force: a.force });
    await open.profile.flush();
    print({ resources: r.resources, records: r.records, unchanged: r.unchanged, kept: r.kept, rejected: r.rejected, ...(r.conflicts > 0 ? { conflicts: r.conflicts } : {}) });
  } finally {
    await open.close();
  }
}

/** The file's bytes; its size is checked before reading it whole. */
async function readInput(path: string): Promise<Uint8Array> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CliError('CLI_USAGE', 'the file to import cannot be read');
  }
  if (size > MAX_IMPORT_BYTES) throw new VaultError('IMPORT_TOO_LARGE', 'the file is too large to import');
  return new Uint8Array(await readFile(path));
}
