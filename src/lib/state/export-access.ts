/**
 * What the overview needs before any export code loads (the converters come with the first click,
 * src/lib/state/exports.ts): the CSV logs to offer and who may take a copy of the whole record.
 */
export { CSV_LOGS, type CsvLog } from '../vault/export.ts';

/**
 * Downloads of the record (JSON, FHIR, IPS, CSV, the PDFs) are for members. A guest of a
 * memory-only clinician session reads on screen: the session promises that nothing of it is kept
 * on the device (threat model row 42), and a downloaded file would be.
 */
export const mayDownloadWholeRecord = (s: { readonly guest: boolean }): boolean => !s.guest;
