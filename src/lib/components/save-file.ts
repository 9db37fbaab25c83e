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
