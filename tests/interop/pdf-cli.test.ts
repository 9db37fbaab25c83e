/**
 * `vault export <alias> --format pdf [--pdf visit|emergency] [--out FILE]` end to end: records
 * written with `set`, the PDF read back with pdftotext, the file owner-only, the export audited,
 * binary refused on a terminal (a real pseudo-terminal through util-linux `script`), and the
 * refusals typed without echoing content.
 */
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pdfKindOf } from '../../src/cli/commands/pdf-export.ts';
import { parseCli } from '../../src/cli/args.ts';
import { CLI_TEST_TIMEOUT_MS, ok, PASSPHRASE, vault } from '../cli/run-cli.ts';
import { tempDir } from '../helpers/relay.ts';
import { readPdf } from './pdf-helpers.ts';

const CANARY = 'Canary-Пеніцилін-7731';
const RECORDS: [string, string, object][] = [
  ['demographics', 'patient', { resourceType: 'Patient', name: [{ text: 'Ελένη Παπαδοπούλου' }], birthDate: '1970-05-01' }],
  ['allergies', 'pen', { resourceType: 'AllergyIntolerance', code: { text: CANARY }, reaction: [{ manifestation: [{ text: 'Rash' }], severity: 'moderate' }] }],
  ['medications', 'salb', { resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: { text: 'Salbutamol inhaler' }, dosage: [{ text: '2 puffs as needed', asNeededBoolean: true }] }],
];

describe('vault export --format pdf', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  const dir = tempDir('fhv-pdf-cli-');
  beforeAll(async () => {
    await ok(dir.path, 'init');
    await ok(dir.path, 'create', 'mum');
    for (const [section, key, record] of RECORDS) await ok(dir.path, 'set', 'mum', section, key, JSON.stringify(record));
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(() => dir.remove());

  it('the visit summary (default) to --out, owner-only; the emergency card to a pipe; both audited', async () => {
    const out = join(dir.path, 'visit.pdf');
    expect(JSON.parse(await ok(dir.path, 'export', 'mum', '--format', 'pdf', '--out', out))).toEqual({ files: [out] });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const visit = readPdf(readFileSync(out));
    expect(visit.info.Title).toBe('Visit summary');
    for (const s of ['Ελένη Παπαδοπούλου', CANARY, 'Rash', 'moderate', 'Salbutamol inhaler', '2 puffs as needed', 'as needed']) expect(visit.text).toContain(s);

    const card = join(dir.path, 'card.pdf');
    await ok(dir.path, 'export', 'mum', '--format', 'pdf', '--pdf', 'emergency', '--out', card);
    expect(readPdf(readFileSync(card)).info.Title).toBe('Emergency card');
    // To a pipe: the bytes of a PDF on stdout, nothing else.
    const piped = await vault(dir.path, ['export', 'mum', '--format', 'pdf', '--pdf', 'emergency']);
    expect(piped.code).toBe(0);
    expect(piped.out.startsWith('%PDF-')).toBe(true);
    expect(piped.out.endsWith('%%EOF')).toBe(true);

    const lines = (await ok(dir.path, 'audit', 'mum')).split('\n').map((l) => JSON.parse(l) as { what: string; detail?: string });
    const details = lines.filter((l) => l.what === 'export').map((l) => l.detail);
    expect(details).toContain('pdf visit');
    expect(details).toContain('pdf emergency');
  });

  it('refuses binary on a terminal without --out (a real pseudo-terminal), and before opening the keyring', async () => {
    expect(() => pdfKindOf(parseCli(['export', 'mum', '--format', 'pdf'], {}), 'pdf', true)).toThrow(expect.objectContaining({ code: 'EXPORT_BINARY_TO_TERMINAL' }));
    expect(pdfKindOf(parseCli(['export', 'mum', '--format', 'pdf', '--out', 'x.pdf'], {}), 'pdf', true)).toBe('visit');
    expect(pdfKindOf(parseCli(['export', 'mum', '--format', 'pdf'], {}), 'pdf', false)).toBe('visit');
    const cli = new URL('../../src/cli/vault.ts', import.meta.url).pathname;
    const cmd = [process.execPath, '--no-warnings', cli, '--dir', dir.path, 'export', 'mum', '--format', 'pdf'].map((w) => `'${w}'`).join(' ');
    const shown = await new Promise<{ code: number; text: string }>((resolve) => {
      execFile('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, VAULT_PASSPHRASE: PASSPHRASE, VAULT_TEST_WEAK_KDF: '1' }, timeout: 120_000 }, (error, stdout) =>
        resolve({ code: error ? Number(error.code) : 0, text: stdout }),
      );
    });
    expect(shown.code).toBe(1);
    expect(shown.text).toContain('EXPORT_BINARY_TO_TERMINAL');
    expect(shown.text).not.toContain('%PDF');
    expect(shown.text).not.toContain(CANARY);
  });

  it('refusals are typed and echo no content', async () => {
    for (const [args, code, exit] of [
      [['--format', 'pdf', '--pdf', 'letter'], 'EXPORT_UNKNOWN_PDF', 1],
      [['--format', 'csv', '--pdf', 'visit'], 'CLI_USAGE', 2],
      [['--format', 'pdf', '--out', join(dir.path, 'no', 'such', 'dir', 'x.pdf')], 'EXPORT_WRITE_FAILED', 1],
    ] as [string[], string, number][]) {
      const r = await vault(dir.path, ['export', 'mum', ...args]);
      expect([r.code, r.error?.code], args.join(' ')).toEqual([exit, code]);
      expect(r.out + r.err).not.toContain(CANARY);
    }
  });
});
