/**
 * PDF exports through the facade (issue 12 item 4, docs/decisions/0032), so the CLI and the app
 * reach them the same way: the export is audited like the others (by a device that may write),
 * and the PDF code with pdfmake and its font is imported only now, never in the first load.
 */
import type { PdfKind } from '../interop/pdf/kinds.ts';
import type { VisitSummaryInput } from '../interop/pdf/visit-summary.ts';
import type { Profile } from './profile.ts';

export { isPdfKind, PDF_KINDS, pdfFileName, type PdfKind } from '../interop/pdf/kinds.ts';
export type { EmergencyCardContent, TrendGroupContent, VisitSummaryInput } from '../interop/pdf/index.ts';

/** The device's calendar day (YYYY-MM-DD): printed on the PDF and in its file name. */
export function localDate(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** The PDF's bytes. `input` is the profile's read model as the state layer derives it (src/lib/state/pdf.ts). */
export async function exportPdf(p: Profile, kind: PdfKind, input: VisitSummaryInput, now: Date): Promise<Uint8Array> {
  p.requireMayExport();
  if (p.canWrite) await p.audit('export', undefined, `pdf ${kind}`);
  const { pdfOf } = await import('../interop/pdf/index.ts');
  return pdfOf(kind, input, localDate(now));
}
