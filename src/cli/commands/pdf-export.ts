/**
 * `vault export <alias> --format pdf [--pdf visit|emergency] [--out FILE]` (issue 12 item 4,
 * docs/decisions/0032): the visit summary (the default) or the emergency card, made on this
 * device from the same read models the app uses, to --out (owner-only) or to a pipe. PDF bytes
 * are never written to a terminal: without --out, stdout must be redirected.
 */
import { writeFileSync } from 'node:fs';
import { pdfInput } from '../../lib/state/pdf.ts';
import { exportPdf, isPdfKind, PDF_KINDS, type PdfKind } from '../../lib/vault/pdf-export.ts';
import type { Profile } from '../../lib/vault/profile.ts';
import type { CliArgs } from '../args.ts';
import { CliError } from '../errors.ts';
import { print } from '../output.ts';

/** Which PDF, checked with the other options before the keyring is opened. */
export function pdfKindOf(a: CliArgs, format: string, stdoutIsTerminal = process.stdout.isTTY === true): PdfKind | undefined {
  if (format !== 'pdf') {
    if (a.pdf !== undefined) throw new CliError('CLI_USAGE', '--pdf picks the document of a pdf export; use it with --format pdf');
    return undefined;
  }
  const kind = a.pdf ?? 'visit';
  if (!isPdfKind(kind)) throw new CliError('EXPORT_UNKNOWN_PDF', `--pdf must be one of: ${PDF_KINDS.join(', ')}`);
  if (a.out === undefined && stdoutIsTerminal) throw new CliError('EXPORT_BINARY_TO_TERMINAL', 'a PDF is binary: write it with --out FILE, or redirect stdout to a file');
  return kind;
}

/** Makes the PDF (audited by a device that may write) and writes it; `write` maps a file-system failure to a typed error. */
export async function writePdf(a: CliArgs, p: Profile, kind: PdfKind, write: (act: () => void) => void, now = new Date()): Promise<void> {
  const bytes = await exportPdf(p, kind, pdfInput(p.records, now), now);
  await p.flush();
  if (a.out === undefined) {
    process.stdout.write(bytes);
    return;
  }
  const out = a.out;
  write(() => writeFileSync(out, bytes, { mode: 0o600 }));
  print({ files: [out] });
}
