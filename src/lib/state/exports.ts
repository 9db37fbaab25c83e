/**
 * The app's whole-record downloads besides the JSON copy (issue 12, docs/decisions/0034): a FHIR
 * R4 collection, an IPS document and one CSV per log, each made on this device through the
 * facade's audited exports. File names say what and when, never whose (no PHI): `ips-2026-12-02.json`.
 */
import { exportCsvLogs, exportDocument, type CsvLog, type DocumentFormat } from '../vault/export.ts';
import { localDate } from '../vault/pdf-export.ts';
import type { Profile } from '../vault/profile.ts';

export type { CsvLog, DocumentFormat };

export interface Download {
  readonly blob: Blob;
  readonly name: string;
}

export const documentFileName = (format: DocumentFormat, now: Date): string => `${format}-${localDate(now)}.json`;
export const csvFileName = (log: CsvLog, now: Date): string => `${log}-${localDate(now)}.csv`;

export async function documentDownload(p: Profile, format: DocumentFormat, now = new Date()): Promise<Download> {
  const bundle = await exportDocument(p, format, { now: () => now.getTime() });
  return { blob: new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/fhir+json' }), name: documentFileName(format, now) };
}

export async function csvDownload(p: Profile, log: CsvLog, now = new Date()): Promise<Download> {
  const text = (await exportCsvLogs(p, [log])).get(log)!;
  return { blob: new Blob([text], { type: 'text/csv' }), name: csvFileName(log, now) };
}
