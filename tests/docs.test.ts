/**
 * docs/threat-model.md stays true to the tests it cites: every claim row's links name test
 * files that exist, and every test name it quotes after a link is the title (or, before a "…",
 * the start of a title) of a test or suite in that file. Titles built from template literals or
 * `describe.each`/`it.each` names match with their placeholders as wildcards. A renamed or
 * deleted test then fails here instead of leaving a claim that cites nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const MODEL = readFileSync(join(ROOT, 'docs/threat-model.md'), 'utf8');

interface Citation {
  readonly row: string;
  readonly file: string;
  readonly names: string[];
}

/** Each claim row's links to tests/, with the quoted names between a link and the next one. */
function citations(): Citation[] {
  const out: Citation[] = [];
  for (const line of MODEL.split('\n')) {
    const row = /^\| (\d+[a-z]?) \|/.exec(line)?.[1];
    if (!row) continue;
    const proof = line.slice(line.lastIndexOf(' | ') + 3);
    const links = [...proof.matchAll(/\[[^\]]+\]\(\.\.\/(tests\/[^)]+)\)/g)];
    links.forEach((link, i) => {
      const after = proof.slice(link.index! + link[0].length, links[i + 1]?.index ?? proof.length);
      out.push({ row, file: link[1]!, names: [...after.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) });
    });
  }
  return out;
}

const normalize = (s: string) => s.replace(/[’‘]/g, "'").replace(/\\(['"`])/g, '$1');

/** The titles of a file's tests and suites, as patterns: `${…}` and `$name` match anything. */
function titlePatterns(source: string): RegExp[] {
  const titles = [...source.matchAll(/\b(?:it|test|describe)(?:\.each\([^)]*\)|\.skipIf\([^)]*\)|\.runIf\([^)]*\))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)].map((m) => normalize(m[2]!));
  const escape = (s: string) => s.replace(/[.*+?^{}()|[\]\\]/g, '\\$&');
  return titles.map((t) => new RegExp(`^${t.split(/\$\{[^}]*\}|\$[a-zA-Z_]+|%[sdi]/).map(escape).join('.*?')}`));
}

describe('docs/threat-model.md cites tests that exist', () => {
  const all = citations();

  it('has claim rows with links to tests (the parser still reads the table)', () => {
    expect(new Set(all.map((c) => c.row)).size).toBeGreaterThan(90);
    expect(all.filter((c) => c.names.length > 0).length).toBeGreaterThan(100);
  });

  it('every linked test file exists, and every quoted test name is a title in it', () => {
    const problems: string[] = [];
    for (const c of all) {
      const path = join(ROOT, c.file);
      if (!existsSync(path)) {
        problems.push(`row ${c.row}: ${c.file} does not exist`);
        continue;
      }
      const patterns = titlePatterns(normalize(readFileSync(path, 'utf8')));
      for (const quoted of c.names) {
        // Text before an ellipsis is the start of the title; a quote that starts with one is not checked.
        const start = normalize(quoted).split(/…|\.\.\./)[0]!.trim();
        if (start.length === 0) continue;
        if (!patterns.some((p) => p.test(start) || p.source.startsWith(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))) {
          problems.push(`row ${c.row}: ${c.file} has no test titled "${start.slice(0, 90)}"`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
