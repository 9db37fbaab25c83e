/**
 * The PDF exports (issue 12 item 4, docs/decisions/0032): a visit summary for a clinician and the
 * emergency card, built as pdfmake document definitions by pure functions and rendered on the
 * device. Callers import this module dynamically so none of it, nor pdfmake, is in the first load.
 */
import { emergencyCardDocument } from './emergency-card.ts';
import type { PdfKind } from './kinds.ts';
import { renderPdf } from './render.ts';
import { visitSummaryDocument, type VisitSummaryInput } from './visit-summary.ts';

export type { EmergencyCardContent } from './card-content.ts';
export type { TrendGroupContent } from './trend-rows.ts';
export type { VisitSummaryInput } from './visit-summary.ts';
export { emergencyCardDocument, renderPdf, visitSummaryDocument };

export { isPdfKind, PDF_KINDS, pdfFileName, type PdfKind } from './kinds.ts';

/** The bytes of one PDF; `generated` (YYYY-MM-DD) is printed on it. */
export function pdfOf(kind: PdfKind, input: VisitSummaryInput, generated: string): Promise<Uint8Array> {
  return renderPdf(kind === 'visit' ? visitSummaryDocument(input, generated) : emergencyCardDocument(input.card, generated));
}
