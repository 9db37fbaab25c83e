/**
 * A document definition rendered to PDF bytes with pdfmake 0.2 and its embedded Roboto
 * (docs/decisions/0032). Both are imported here, on first use, never at the top of a module:
 * the library (~1.4 MB) and the font file system (~0.85 MB) are separate chunks fetched only
 * when a person makes a PDF, so the app's first load does not grow. The same browser build runs
 * in Node (the CLI and the tests), so what the tests check is what the app produces.
 */
import type { TDocumentDefinitions } from 'pdfmake/interfaces';

interface PdfMake {
  createPdf(doc: TDocumentDefinitions, layouts?: undefined, fonts?: undefined, vfs?: Record<string, string>): { getBuffer(cb: (bytes: Uint8Array) => void): void };
}

/** The module's CommonJS export, whichever way the bundler or Node hands it over. */
const commonJs = <T>(m: unknown): T => ((m as { default?: T }).default ?? m) as T;

let loaded: Promise<{ pdfMake: PdfMake; vfs: Record<string, string> }> | undefined;

function load(): Promise<{ pdfMake: PdfMake; vfs: Record<string, string> }> {
  loaded ??= Promise.all([import('pdfmake/build/pdfmake.js'), import('pdfmake/build/vfs_fonts.js')]).then(([lib, fonts]) => ({
    pdfMake: commonJs<PdfMake>(lib),
    vfs: commonJs<Record<string, string>>(fonts),
  }));
  // A failed fetch (offline, new deploy) must not stick: the next try loads again.
  loaded.catch(() => (loaded = undefined));
  return loaded;
}

export async function renderPdf(doc: TDocumentDefinitions): Promise<Uint8Array> {
  const { pdfMake, vfs } = await load();
  return new Promise((resolve, reject) => {
    try {
      pdfMake.createPdf(doc, undefined, undefined, vfs).getBuffer((bytes) => resolve(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
    } catch (e) {
      reject(e);
    }
  });
}
