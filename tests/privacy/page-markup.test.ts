/**
 * What the browser keeps outside the encrypted store (decision 0042), checked in the sources so a
 * new screen cannot slip past: page titles name the screen, never the person (History, Top Sites
 * and session files keep titles), and every text field is kept out of Chromium's autofill and
 * form-restore data (`autocomplete="off"`). The running app is checked end to end by
 * tests/e2e/privacy-scan.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function svelteFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? svelteFiles(join(dir, e.name)) : e.name.endsWith('.svelte') ? [join(dir, e.name)] : [],
  );
}

const FILES = [...svelteFiles(join(ROOT, 'src/routes')), ...svelteFiles(join(ROOT, 'src/lib/components'))];
const rel = (f: string) => relative(ROOT, f);

/** Title expressions that are fixed words (a section title from the fixed table), never data. */
const FIXED_TITLE_EXPRESSIONS = new Set(["{form?.title ?? 'Records'}"]);

describe('page titles', () => {
  it('hold only fixed words: no expression but the allowed ones', () => {
    const titles = FILES.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/<svelte:head>[\s\S]*?<title>([\s\S]*?)<\/title>/g)].map((m) => ({ file: rel(f), title: m[1]! })));
    expect(titles.length).toBeGreaterThan(10);
    const dynamic = titles.flatMap((t) => [...t.title.matchAll(/\{[^}]*\}/g)].map((m) => m[0]).filter((e) => !FIXED_TITLE_EXPRESSIONS.has(e)).map((e) => `${t.file}: ${e}`));
    expect(dynamic).toEqual([]);
  });

  it('the overview is titled by the screen, not the person', () => {
    const overview = readFileSync(join(ROOT, 'src/routes/p/[doc]/+page.svelte'), 'utf8');
    expect(overview).toMatch(/<title>Overview · Family Health Vault<\/title>/);
  });
});

/**
 * Text controls (not checkboxes, files, or disabled placeholders). Read-only ones count: Chromium
 * saves a read-only field's value as form state too, and those show invite and health links.
 */
function typedControls(source: string): string[] {
  return [...source.matchAll(/<(input|textarea)\b(?:=>|[^>])*>/g)]
    .map((m) => m[0])
    .filter((tag) => !/type="(checkbox|file|radio|hidden)"/.test(tag) && !/\sdisabled\s/.test(tag) && !/\sdisabled\s*\/?>/.test(tag));
}

describe('autocomplete', () => {
  it('every field a person types into says autocomplete="off" (or the form field spec, which defaults to off)', () => {
    const missing = FILES.flatMap((f) =>
      typedControls(readFileSync(f, 'utf8'))
        .filter((tag) => !/autocomplete="off"/.test(tag) && !/autocomplete=\{\(field\.autocomplete \?\? 'off'\)/.test(tag))
        .map((tag) => `${rel(f)}: ${/id="([^"]+)"/.exec(tag)?.[1] ?? tag.slice(0, 40)}`),
    );
    expect(missing).toEqual([]);
  });

  it('no form field spec asks for a value the browser would remember', async () => {
    const { readdirSync: ls } = await import('node:fs');
    const dir = join(ROOT, 'src/lib/state/forms');
    const asked = ls(dir).flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/autocomplete: '([^']+)'/g)].map((m) => m[1]));
    expect(asked.filter((a) => a !== 'off')).toEqual([]);
  });
});
