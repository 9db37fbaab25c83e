/**
 * What the overview needs before any export code loads (the converters come with the first click,
 * src/lib/state/exports.ts): the CSV logs to offer and who may take a copy of the record.
 */
import type { CsvLog } from '../vault/export.ts';

/**
 * The logs the CSV export knows, named here so the overview does not load the export chunk to
 * list them (a static import of the facade's CSV_LOGS pulled 14 kB of IPS code into the
 * overview). tests/state/fhir-import-flow.svelte.test.ts checks it equals CSV_LOGS.
 */
export const CSV_LOG_CHOICES = ['vitals', 'labs', 'doses', 'journal'] as const satisfies readonly CsvLog[];

/**
 * Downloads of the record (JSON, FHIR, IPS, CSV, the PDFs) are for members. A guest of a
 * memory-only clinician session reads on screen: the session promises that nothing of it is kept
 * on the device (threat model row 42), and a downloaded file would be.
 */
export const mayDownloadWholeRecord = (s: { readonly guest: boolean }): boolean => !s.guest;
