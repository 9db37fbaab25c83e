/** The PDFs a person can make, and their file names (no name, no birth date: no PHI). */
export const PDF_KINDS = ['visit', 'emergency'] as const;
export type PdfKind = (typeof PDF_KINDS)[number];

export const isPdfKind = (s: string): s is PdfKind => (PDF_KINDS as readonly string[]).includes(s);

const FILE_STEM: Record<PdfKind, string> = { visit: 'visit-summary', emergency: 'emergency-card' };

/** "visit-summary-2026-12-02.pdf": the kind and the day, with the extension. */
export const pdfFileName = (kind: PdfKind, day: string): string => `${FILE_STEM[kind]}-${day}.pdf`;
