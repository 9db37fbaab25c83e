/**
 * Who may import whom (shared/design conventions "Who may import whom", docs/decisions/0004):
 * the layout is the architecture, so every file of src/ (routes, components, state, the CLI and
 * the lib layers), server/ and crdt-schemas/ is checked against its layer's rule on every test
 * run, imports parsed by the TypeScript compiler (tests/helpers/imports.ts), and the module
 * graph must have no cycles.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, importsOfScript, localTarget, ROOT, scriptOf, sourceFiles, type ImportRef } from './helpers/imports.ts';

/** Layer of a file: the folder that names its place in crypto → protocol → sync → vault → state → UI. */
function layerOf(path: string): string | undefined {
  const rel = relative(ROOT, path);
  if (rel === 'src/lib/errors.ts') return 'errors';
  const lib = /^src\/lib\/([^/]+)\//.exec(rel);
  if (lib) return lib[1];
  if (rel.startsWith('src/routes/') || rel === 'src/hooks.ts') return 'routes';
  if (rel.startsWith('src/cli/')) return 'cli';
  if (rel === 'src/service-worker.ts') return 'service-worker';
  if (rel === 'src/app.css') return 'app-shell';
  if (rel.startsWith('server/')) return 'server';
  if (rel.startsWith('crdt-schemas/')) return 'crdt-schemas';
  return undefined;
}

interface Rule {
  /** Other layers this layer may import (its own layer and the shared error base always). */
  readonly layers: readonly string[];
  /** Layers it may import types from only (erased at runtime). */
  readonly typesFrom?: readonly string[];
  /** Packages (and node: built-ins) it may import. */
  readonly packages: RegExp;
}

/**
 * The conventions' table, with these deliberate departures (each with its reason):
 * - protocol → yjs: the envelope policy decodes Yjs updates read-only (docs/decisions/0004).
 * - crypto, storage → node: built-ins: the OpenSSL Ed25519 engine and the node:sqlite log.
 * - server → crypto, yjs: the relay verifies signatures with the crypto engines and reads Yjs
 *   state vectors in its policy (docs/decisions/0004: it imports protocol, crypto and storage);
 *   prom-client for its metrics (docs/decisions/0046); the scale-out stores' clients: pg
 *   (0047), @hocuspocus/extension-redis with ioredis (0048), @aws-sdk/client-s3 (0049).
 * - components → uplot, uqr: the chart and QR libraries (docs/decisions/0012).
 * - routes → $app/*: SvelteKit's own navigation and page state; app-shell: the global stylesheet.
 * - cli: a client like the app, so it uses the vault facade (never sync internals), crypto and
 *   protocol helpers, and Node built-ins.
 * - interop: pure format conversion over the schemas' read model (docs/decisions/0029, 0030):
 *   no yjs, no vault; pdfmake for the PDF exports (docs/decisions/0032), loaded on first use;
 *   jose for the SMART Health Link JWE (docs/decisions/0031).
 */
const RULES: Record<string, Rule> = {
  errors: { layers: [], packages: /^$/ },
  'crdt-schemas': { layers: [], packages: /^(yjs|zod|@medplum\/fhirtypes)$/ },
  crypto: { layers: [], packages: /^(tweetnacl$|@noble\/(curves|hashes)\/|node:)/ },
  protocol: { layers: ['crypto'], packages: /^(yjs|lib0(\/|$))/ },
  storage: { layers: ['crypto', 'protocol'], packages: /^(yjs|y-indexeddb|node:)/ },
  sync: { layers: ['crypto', 'protocol', 'crdt-schemas'], packages: /^(yjs|y-protocols(\/|$)|@hocuspocus\/provider|lib0(\/|$))/ },
  /** Format conversion (FHIR import/export plans, PDF content, SMART Health Links): pure over the schemas, no Yjs; pdfmake loaded lazily for rendering jose for JWE (docs/decisions/0029, 0031, 0032). */
  interop: { layers: ['crdt-schemas', 'crypto'], packages: /^(jose$|pdfmake\/(interfaces|build\/(pdfmake|vfs_fonts)\.js)$)/ },
  vault: { layers: ['crypto', 'protocol', 'sync', 'storage', 'crdt-schemas', 'interop'], packages: /^yjs$/ },
  /** minisearch: the in-memory, never-persisted record search (docs/decisions/0040). */
  state: { layers: ['vault'], packages: /^(svelte(\/|$)|minisearch$)/ },
  components: { layers: [], typesFrom: ['state'], packages: /^(svelte|uplot|uqr)(\/|$)/ },
  routes: { layers: ['state', 'components', 'app-shell'], packages: /^(svelte(\/|$)|\$app\/)/ },
  cli: { layers: ['vault', 'crypto', 'protocol'], packages: /^node:/ },
  server: { layers: ['protocol', 'crypto', 'storage', 'crdt-schemas'], packages: /^(@hocuspocus\/(server|extension-redis)$|yjs$|prom-client$|pg$|ioredis$|@aws-sdk\/client-s3$|node:)/ },
  'service-worker': { layers: [], packages: /^\$service-worker$/ },
};

/**
 * Known violations, each `file → import`, kept until the code is fixed (not here: others are
 * editing these files). A fixed one must leave this list: the test fails on a stale entry.
 */
const ALLOWED_VIOLATIONS: ReadonlyMap<string, string> = new Map([
  // The PDFs read the emergency card and trend read models, which live in the state layer though
  // they are pure (no svelte); the CLI must print what the app prints. Fixed when those models
  // move below the vault facade (issue 12 item 4, docs/decisions/0032).
  ['src/cli/commands/pdf-export.ts → ../../lib/state/pdf.ts', 'state read models for the PDF exports'],
]);

const FILES = [...sourceFiles(join(ROOT, 'src')), ...sourceFiles(join(ROOT, 'server')), ...sourceFiles(join(ROOT, 'crdt-schemas'))];
const rel = (path: string) => relative(ROOT, path);
const ENGINE_DOOR = 'src/lib/vault/engine.ts';

/** Whether `file` may import `ref` under its layer's rule. */
function allowed(file: string, { spec, typeOnly }: ImportRef): boolean {
  const layer = layerOf(file)!;
  const rule = RULES[layer]!;
  const target = localTarget(file, spec);
  if (target === undefined) return rule.packages.test(spec);
  const to = layerOf(target);
  if (to === undefined) return false;
  // The engine door (sync engine, connection, docs of a profile) is the vault layer's own; the
  // UI, the state layer and the CLI see only the facade's read models and typed operations.
  if (rel(target) === ENGINE_DOOR && layer !== 'vault') return false;
  return to === layer || to === 'errors' || rule.layers.includes(to) || (typeOnly && (rule.typesFrom ?? []).includes(to));
}

const violationsOf = (file: string): string[] => importsOf(file).filter((ref) => !allowed(file, ref)).map(({ spec }) => `${rel(file)} → ${spec}`);

describe('architecture', () => {
  it('the import parser sees every kind of import, and a .svelte file only through its <script> blocks', () => {
    const script = [
      "import a from 'static';",
      "import 'side-effect';",
      "import type { T } from 'type-only';",
      "import { type U, type V } from 'type-specifiers';",
      "import { type W, value } from 'mixed';",
      "export { x } from 'reexport';",
      "export type { Y } from 'type-reexport';",
      "export * from 'star';",
      "const lazy = () => import('dynamic');",
      "const cjs = require('required');",
      "let t: import('type-query').Z;",
      "const notAnImport = \"import x from 'in-a-string'\";",
    ].join('\n');
    expect(importsOfScript(script)).toEqual([
      { spec: 'static', typeOnly: false },
      { spec: 'side-effect', typeOnly: false },
      { spec: 'type-only', typeOnly: true },
      { spec: 'type-specifiers', typeOnly: true },
      { spec: 'mixed', typeOnly: false },
      { spec: 'reexport', typeOnly: false },
      { spec: 'type-reexport', typeOnly: true },
      { spec: 'star', typeOnly: false },
      { spec: 'dynamic', typeOnly: false },
      { spec: 'required', typeOnly: false },
      { spec: 'type-query', typeOnly: true },
    ]);
    const svelte = '<script module lang="ts">import m from "module-block";</script>\n<script lang="ts">\n  import i from "instance-block";\n</script>\n<p>import x from "markup"</p>';
    expect(importsOfScript(scriptOf('X.svelte', svelte)).map((r) => r.spec)).toEqual(['module-block', 'instance-block']);
  });

  it('covers routes, components, state, the CLI, every lib layer, the relay and the schemas', () => {
    const layers = new Set(FILES.map(layerOf));
    for (const l of ['routes', 'components', 'state', 'cli', 'crypto', 'protocol', 'sync', 'storage', 'vault', 'server', 'crdt-schemas']) {
      expect(layers, l).toContain(l);
    }
  });

  it('every file belongs to a layer with a rule', () => {
    expect(FILES.filter((f) => !RULES[layerOf(f) ?? '']).map(rel)).toEqual([]);
  });

  it('every local import names a file that exists (the parser and resolution are right)', () => {
    const missing = FILES.flatMap((f) =>
      importsOf(f)
        .map(({ spec }) => localTarget(f, spec))
        .filter((t): t is string => t !== undefined && !existsSync(t))
        .map((t) => `${rel(f)} → ${rel(t)}`),
    );
    expect(missing).toEqual([]);
  });

  it('every import respects the layer rules (known violations listed above)', () => {
    const found = FILES.flatMap(violationsOf);
    expect(found.filter((v) => !ALLOWED_VIOLATIONS.has(v))).toEqual([]);
    // A violation that was fixed leaves the allow-list.
    expect([...ALLOWED_VIOLATIONS.keys()].filter((v) => !found.includes(v))).toEqual([]);
  });

  it('the rules catch what they must: a route importing yjs, sync or crypto, a component importing state values', () => {
    // The checker run on synthetic imports, so a rule that silently allows everything fails here.
    const check = (file: string, spec: string, typeOnly = false) => allowed(join(ROOT, file), { spec, typeOnly });
    expect(check('src/routes/+page.svelte', 'yjs')).toBe(false);
    expect(check('src/routes/+page.svelte', '$lib/sync/profile-sync.ts')).toBe(false);
    expect(check('src/routes/+page.svelte', '$lib/crypto/index.ts')).toBe(false);
    expect(check('src/routes/+page.svelte', '$lib/vault/profile.ts')).toBe(false);
    expect(check('src/routes/+page.svelte', '$lib/state/context.ts')).toBe(true);
    expect(check('src/lib/components/MemberList.svelte', '../state/profile.svelte.ts', false)).toBe(false);
    expect(check('src/lib/components/MemberList.svelte', '../state/profile.svelte.ts', true)).toBe(true);
    expect(check('src/lib/components/MemberList.svelte', 'tweetnacl')).toBe(false);
    expect(check('src/cli/vault.ts', '../lib/sync/profile-sync.ts')).toBe(false);
    expect(check('src/cli/vault.ts', '../lib/vault/profile.ts')).toBe(true);
    expect(check('src/cli/vault.ts', '../lib/vault/engine.ts')).toBe(false);
    expect(check('src/lib/state/profile.svelte.ts', '../vault/engine.ts')).toBe(false);
    expect(check('src/lib/vault/session.ts', './engine.ts')).toBe(true);
    expect(check('server/policy.ts', '../src/lib/vault/profile.ts')).toBe(false);
    expect(check('src/lib/state/app.svelte.ts', '../sync/status.ts')).toBe(false);
  });

  it('the UI never imports yjs, tweetnacl, the provider or any y-* package', () => {
    const ui = FILES.filter((f) => ['routes', 'components', 'state'].includes(layerOf(f)!));
    expect(ui.length).toBeGreaterThan(0);
    const bad = ui.flatMap((f) => importsOf(f).filter(({ spec }) => /^(yjs|tweetnacl|@hocuspocus\/provider|y-)/.test(spec)).map(({ spec }) => `${rel(f)} → ${spec}`));
    expect(bad).toEqual([]);
  });

  it('there are no import cycles between modules', () => {
    const graph = new Map<string, string[]>();
    for (const f of FILES) {
      graph.set(
        f,
        importsOf(f)
          .map(({ spec }) => localTarget(f, spec))
          .filter((t): t is string => t !== undefined),
      );
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map(rel).join(' → '));
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
