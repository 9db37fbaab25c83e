/**
 * Hands a file made on the device to the browser's download, under a name that carries no
 * health data. A blob: URL shares the app's origin, so callers pass octet-stream (or the
 * format's own type) for anything a record supplied, never a type that the browser would render.
 * The URL is revoked after a minute: long enough for a slow save dialog, not kept for ever.
 */
export function saveFile(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: name, rel: 'noopener' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** File extensions for the MIME types documents usually have (the stored type is the record's word for it). */
const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/heif': 'heif',
  'image/tiff': 'tiff',
  'image/bmp': 'bmp',
  'image/svg+xml': 'svg',
  'text/plain': 'txt',
  'text/csv': 'csv',
  'text/html': 'html',
  'text/xml': 'xml',
  'application/xml': 'xml',
  'application/json': 'json',
  'application/fhir+json': 'json',
  'application/dicom': 'dcm',
  'application/zip': 'zip',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/rtf': 'rtf',
  'audio/mpeg': 'mp3',
  'video/mp4': 'mp4',
};

/**
 * `name` with the extension its MIME type calls for, unless it already ends in one that type
 * uses ("scan.PDF" stays). Unknown types leave the name as it is. Characters a file system
 * refuses are replaced, so a title like "Blood test 3/11" still saves.
 */
export function fileNameFor(name: string, mimeType: string): string {
  const safe = name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '-').trim() || 'document';
  const ext = EXTENSIONS[mimeType.toLowerCase().split(';')[0]!.trim()];
  if (!ext) return safe;
  const has = /\.([A-Za-z0-9]{1,5})$/.exec(safe)?.[1]?.toLowerCase();
  if (has === ext || (ext === 'jpg' && has === 'jpeg') || (ext === 'tiff' && has === 'tif') || (ext === 'html' && has === 'htm')) return safe;
  return `${safe}.${ext}`;
}
