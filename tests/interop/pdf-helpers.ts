/**
 * Shared by the PDF tests: a PDF rendered by the app's own code read back with poppler-utils
 * (`pdftotext`, `pdfinfo`, `pdffonts`, `pdftoppm`), as a reader's viewer would see it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PdfReadback {
  /** All text in content order (`pdftotext -raw`). */
  text: string;
  /** Text of each page, first page first. */
  pages: string[];
  info: Record<string, string>;
  /** The fonts embedded (`pdffonts` names). */
  fonts: string[];
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

export function readPdf(bytes: Uint8Array): PdfReadback {
  const dir = mkdtempSync(join(tmpdir(), 'fhv-pdf-'));
  try {
    const file = join(dir, 'doc.pdf');
    writeFileSync(file, bytes);
    const info = Object.fromEntries(
      run('pdfinfo', [file])
        .split('\n')
        .map((l) => /^([^:]+):\s*(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
    const count = Number(info.Pages);
    const pages = Array.from({ length: count }, (_, i) => run('pdftotext', ['-raw', '-f', String(i + 1), '-l', String(i + 1), file, '-']));
    const fonts = run('pdffonts', [file])
      .split('\n')
      .slice(2)
      .map((l) => l.split(/\s+/)[0]!)
      .filter(Boolean);
    return { text: run('pdftotext', ['-raw', file, '-']), pages, info, fonts };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pages rendered to PNG at `dpi`; returns the PNG files' bytes (first page first). With `keep`, the PNGs stay there as `<name>-<page>.png`. */
export function pagesAsPng(bytes: Uint8Array, dpi = 50, keep?: { dir: string; name: string }): Buffer[] {
  const dir = mkdtempSync(join(keep?.dir ?? tmpdir(), 'fhv-png-'));
  const stem = keep?.name ?? 'page';
  try {
    const file = join(dir, 'doc.pdf');
    writeFileSync(file, bytes);
    execFileSync('pdftoppm', ['-png', '-r', String(dpi), file, join(keep?.dir ?? dir, stem)]);
    return readdirSync(keep?.dir ?? dir)
      .filter((f) => f.startsWith(`${stem}-`) && f.endsWith('.png'))
      .sort()
      .map((f) => readFileSync(join(keep?.dir ?? dir, f)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Text without any whitespace: a cell wrapped over lines still reads as one run. */
export const squash = (s: string): string => s.replace(/\s+/g, '');
