/**
 * `vault export <alias> [--format json|fhir|ips|csv|pdf] [--out FILE] [--section LOG]`
 * (issue 12 items 2 and 5, docs/decisions/0030). json (the default) is the vault's own
 * decrypted doc, as before; fhir a FHIR R4 collection Bundle of everything; ips an HL7 IPS 2.0
 * document; csv one log (--section vitals|labs|doses|journal) to stdout or --out FILE, or every
 * log as <log>.csv into --out DIR; pdf is not built yet (a typed error says so). The export is
 * audited (a signed entry in this device's chain) when this device may write (src/lib/vault/
 * export.ts). Files are written owner-only (0600): they hold health data in the clear.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSV_LOGS, exportCsvLogs, exportDocument, isCsvLog, type CsvLog } from '../../lib/vault/export.ts';
import { need, type CliArgs } from '../args.ts';
import { openDevice, openProfile, requireReadable } from '../device.ts';
import { CliError } from '../errors.ts';
import { print } from '../output.ts';

export const EXPORT_FORMATS = ['json', 'fhir', 'ips', 'csv', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const USAGE = 'export <alias> [--format json|fhir|ips|csv|pdf] [--out FILE] [--section vitals|labs|doses|journal]';

/** The format and CSV log asked for, checked before the keyring is opened. */
export function exportOptions(a: CliArgs): { format: Exclude<ExportFormat, 'pdf'>; section: CsvLog | undefined } {
  const format = a.format ?? 'json';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new CliError('EXPORT_UNKNOWN_FORMAT', `--format must be one of: ${EXPORT_FORMATS.join(', ')}`);
  if (format === 'pdf') throw new CliError('EXPORT_NOT_AVAILABLE', 'PDF export is not available yet; use --format ips, fhir or csv');
  if (a.section !== undefined && format !== 'csv') throw new CliError('CLI_USAGE', '--section picks the log of a csv export; use it with --format csv');
  if (a.section !== undefined && !isCsvLog(a.section)) throw new CliError('EXPORT_UNKNOWN_LOG', `--section must be one of: ${CSV_LOGS.join(', ')}`);
  if (format === 'csv' && a.section === undefined && a.out === undefined) {
    throw new CliError('CLI_USAGE', `a csv export writes every log into --out DIR (${CSV_LOGS.map((l) => `${l}.csv`).join(', ')}), or one log with --section`);
  }
  return { format: format as Exclude<ExportFormat, 'pdf'>, section: a.section as CsvLog | undefined };
}

export async function exportProfile(a: CliArgs): Promise<void> {
  const [alias] = need(a, 1, USAGE);
  const { format, section } = exportOptions(a);
  const dev = await openDevice(a);
  const open = await openProfile(dev, alias!);
  const p = open.profile;
  try {
    requireReadable(p);
    if (format === 'json') {
      // The export is audited (a signed entry in this device's chain) only by a device that may write.
      const data = p.canWrite ? await p.exportJSON() : p.toJSON();
      await p.flush();
      emit(a.out, `${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    if (format === 'csv') {
      const tables = await exportCsvLogs(p, section ? [section] : CSV_LOGS);
      await p.flush();
      if (section) return emit(a.out, tables.get(section)!);
      const dir = a.out!;
      write(() => mkdirSync(dir, { recursive: true, mode: 0o700 }));
      const files = [...tables].map(([log, text]) => {
        const file = join(dir, `${log}.csv`);
        write(() => writeFileSync(file, text, { mode: 0o600 }));
        return file;
      });
      print({ files });
      return;
    }
    const bundle = await exportDocument(p, format);
    await p.flush();
    emit(a.out, `${JSON.stringify(bundle, null, 2)}\n`);
  } finally {
    await open.close();
  }
}

/** To stdout, or to --out (owner-only), then one line saying where. */
function emit(out: string | undefined, text: string): void {
  if (out === undefined) {
    process.stdout.write(text);
    return;
  }
  write(() => writeFileSync(out, text, { mode: 0o600 }));
  print({ files: [out] });
}

/** A file-system failure as a typed error: its code (EACCES, ENOENT…), never the content. */
function write(act: () => void): void {
  try {
    act();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    throw new CliError('EXPORT_WRITE_FAILED', `the export could not be written to --out (${typeof code === 'string' ? code : 'error'}); nothing else changed`);
  }
}
