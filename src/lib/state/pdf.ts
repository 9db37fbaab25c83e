/**
 * What the PDF exports read (issue 12 item 4): the emergency card and trend read models of this
 * layer, so the visit summary and the card list exactly what the screens show as current. Used by
 * the app's download buttons and by the CLI's `export --format pdf`.
 */
import type { SectionName, SectionRecord } from '../vault/health.ts';
import { exportPdf, localDate, pdfFileName, type PdfKind, type VisitSummaryInput } from '../vault/pdf-export.ts';

export type { PdfKind } from '../vault/pdf-export.ts';
import type { Profile } from '../vault/profile.ts';
import { emergencyCard } from './emergency.ts';
import { labTrends, vitalTrends } from './trends.ts';

export interface PdfRecords {
  list<S extends SectionName>(section: S): readonly SectionRecord<S>[];
}

export function pdfInput(p: PdfRecords, now: Date): VisitSummaryInput {
  const medications = p.list('medications');
  return {
    card: emergencyCard(
      {
        demographics: p.list('demographics')[0],
        allergies: p.list('allergies'),
        conditions: p.list('conditions'),
        medications,
        blood: p.list('blood-donor')[0],
        alerts: p.list('alerts'),
        careTeam: p.list('care-team'),
        devices: p.list('devices'),
      },
      now,
    ),
    medications,
    immunizations: p.list('immunizations'),
    vitals: vitalTrends(p.list('list:vitals')),
    labs: labTrends(p.list('lab-results')),
  };
}

/** A PDF of this profile as a download: the bytes as a Blob and a file name without PHI. */
export async function pdfDownload(p: PdfRecords & { readonly profile: Profile }, kind: PdfKind, now = new Date()): Promise<{ blob: Blob; name: string }> {
  const bytes = await exportPdf(p.profile, kind, pdfInput(p, now), now);
  return { blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/pdf' }), name: pdfFileName(kind, localDate(now)) };
}
