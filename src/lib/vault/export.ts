/**
 * Exports through the facade (docs/decisions/0030), so the CLI and the app reach them the same
 * way: the pure FHIR, IPS and CSV conversions of src/lib/interop over this profile's validated
 * read model, kept resources included, with the profile's clock and a random UUID source. Each
 * export by a device that may write is audited with its format, as the JSON export is.
 */
import { secureRandom, type RandomSource } from '../crypto/index.ts';
import { exportCsv, type CsvLog } from '../interop/csv-export.ts';
import { exportFhirCollection } from '../interop/fhir/export-fhir.ts';
import type { ExportClock, ExportSource, FhirJson } from '../interop/fhir/export-source.ts';
import { exportIps } from '../interop/fhir/ips-export.ts';
import { isSection } from './health.ts';
import type { Profile } from './profile.ts';

export { CSV_LOGS, isCsvLog, type CsvLog } from '../interop/csv-export.ts';
export type { FhirJson } from '../interop/fhir/export-source.ts';

/** The section of resources an import kept verbatim (docs/decisions/0029), once the schemas have it. */
const KEPT_SECTION = 'kept';

/** The profile's read model as the exports see it. */
export function exportSourceOf(p: Profile): ExportSource {
  return {
    list: (section) => p.records.list(section),
    kept: () => (isSection(KEPT_SECTION) ? (p.records.list(KEPT_SECTION) as unknown as { resource: FhirJson }[]).map((r) => r.resource) : []),
  };
}

/** An RFC 4122 version 4 UUID from `random`. */
export function uuidV4(random: RandomSource = secureRandom): string {
  const b = random(16);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export type DocumentFormat = 'fhir' | 'ips';

export interface ExportOptions {
  readonly now?: () => number;
  readonly random?: RandomSource;
}

async function audited(p: Profile, format: string): Promise<void> {
  p.requireMayExport();
  if (p.canWrite) await p.audit('export', undefined, format);
}

/** A FHIR R4 collection of everything, or an IPS 2.0 document. */
export async function exportDocument(p: Profile, format: DocumentFormat, o: ExportOptions = {}): Promise<FhirJson> {
  await audited(p, format);
  const random = o.random ?? secureRandom;
  const clock: ExportClock = { now: o.now ?? (() => Date.now()), uuid: () => uuidV4(random) };
  const source = exportSourceOf(p);
  return format === 'ips' ? exportIps(source, clock) : exportFhirCollection(source, clock);
}

/** The logs as CSV, one text per log asked for (one audit entry for the lot). */
export async function exportCsvLogs(p: Profile, logs: readonly CsvLog[]): Promise<Map<CsvLog, string>> {
  await audited(p, 'csv');
  const source = exportSourceOf(p);
  return new Map(logs.map((log) => [log, exportCsv(log, source)]));
}
