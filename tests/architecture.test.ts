/**
 * Who may import whom (docs/decisions/0004, shared/design conventions): the layout is the
 * architecture, so the folder rules and the absence of cycles are checked on every test run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|svelte)$/.test(name)) out.push(p);
  }
  return out;
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
function importsOf(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(IMPORT)].map((m) => m[1] ?? m[2]!);
}

/** Layer of a file: the folder that names its place in crypto → protocol → sync → vault → state → UI. */
function layer(file: string): string {
  const rel = relative(ROOT, file);
  const m = rel.match(/^src\/lib\/([^/]+)\//);
  if (m) return m[1]!;
  if (rel.startsWith('src/routes/')) return 'routes';
  return rel.split('/')[0]!;
}

const ALLOWED: Record<string, { layers: string[]; packages: RegExp }> = {
  crypto: { layers: ['crypto'], packages: /^(tweetnacl|@noble\/|node:)/ },
  protocol: { layers: ['protocol', 'crypto'], packages: /^(yjs|lib0)/ },
  storage: { layers: ['storage', 'crypto', 'protocol'], packages: /^(yjs|y-indexeddb|node:)/ },
  sync: { layers: ['sync', 'crypto', 'protocol', 'crdt-schemas'], packages: /^(yjs|y-protocols|@hocuspocus\/provider|lib0)/ },
  vault: { layers: ['vault', 'crypto', 'protocol', 'sync', 'storage', 'crdt-schemas'], packages: /^(yjs)/ },
  state: { layers: ['state', 'vault'], packages: /^(svelte)/ },
  components: { layers: ['components', 'state'], packages: /^(svelte|uplot(\/|$)|uqr$)/ },
  routes: { layers: ['routes', 'state', 'components'], packages: /^(svelte|\$app|\$lib)/ },
  server: { layers: ['server', 'protocol', 'crypto', 'storage'], packages: /^(@hocuspocus\/server|yjs|node:)/ },
  'crdt-schemas': { layers: ['crdt-schemas'], packages: /^(yjs|zod$|@medplum\/fhirtypes$)/ },
};

describe('architecture', () => {
  const all = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'server')), ...files(join(ROOT, 'crdt-schemas'))].filter(
    (f) => !f.includes('/src/cli/'),
  );

  it('every import respects the folder rules', () => {
    const violations: string[] = [];
    for (const file of all) {
      const rule = ALLOWED[layer(file)];
      if (!rule) continue;
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) {
          const target = layer(resolve(dirname(file), spec));
          if (!rule.layers.includes(target)) violations.push(`${relative(ROOT, file)} → ${spec}`);
        } else if (!rule.packages.test(spec)) {
          violations.push(`${relative(ROOT, file)} → ${spec}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('the UI never imports yjs, tweetnacl or the provider', () => {
    const ui = all.filter((f) => ['routes', 'components', 'state'].includes(layer(f)));
    expect(ui.length).toBeGreaterThan(0);
    for (const f of ui) for (const spec of importsOf(f)) expect(spec).not.toMatch(/^(yjs|tweetnacl|@hocuspocus\/provider|y-)/);
  });

  it('there are no import cycles between modules', () => {
    const graph = new Map<string, string[]>();
    for (const f of all) {
      graph.set(
        f,
        importsOf(f)
          .filter((s) => s.startsWith('.'))
          .map((s) => resolve(dirname(f), s)),
      );
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(ROOT, p)).join(' → '));
        return;
      }
      state.set(f, 'visiting');
      for (const g of graph.get(f) ?? []) visit(g, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
