/**
 * Every import is a declared dependency, and every declared dependency is used
 * (shared/design conventions: few, deliberate dependencies). Runtime code (src/, server/,
 * crdt-schemas/) imports only `dependencies`; tests, benchmarks, CI scripts and tool configs
 * may also import `devDependencies`; `node:` built-ins need nothing.
 */
import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, importsOfScript, localTarget, ROOT, sourceFiles, type ImportRef } from './helpers/imports.ts';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const DEPENDENCIES = new Set(Object.keys(pkg.dependencies));
const DEV_DEPENDENCIES = new Set(Object.keys(pkg.devDependencies));

/**
 * SvelteKit's virtual modules come from @sveltejs/kit. Svelte and SvelteKit are the app's
 * compiler and framework: Vite bundles what the app uses of them into build/ at build time,
 * so they are devDependencies (SvelteKit's convention) although src/ imports them.
 */
const VIRTUAL = /^\$(app|service-worker|env)(\/|$)/;
const BUNDLED_FRAMEWORK = new Set(['svelte', '@sveltejs/kit']);

/** Declared but never imported, used another way: each with where and why. */
const USED_WITHOUT_IMPORT: Readonly<Record<string, string>> = {
  'y-protocols': 'peer dependency of @hocuspocus/provider and @hocuspocus/server: one copy shared with them',
  node: 'Node 24 itself (docs/decisions/0006): .ci/run and the scripts run node_modules/.bin/node',
  'svelte-check': 'package.json script "check"',
  '@types/node': 'tsconfig.json "types": ["node"]',
  '@types/ws': 'types of ws, which tests and benchmarks import',
  '@types/pg': 'types of pg, which the PostgreSQL relay store imports (server/storage/postgres-relay-store.ts)',
  '@types/pdfmake': 'types of pdfmake (pdfmake/interfaces, pdfmake/build/*), which the PDF exports import',
  'axe-core': 'tests/e2e/axe.ts loads axe.min.js by path (require.resolve) into the page',
};

/** The package a bare specifier names ('@scope/name/sub' → '@scope/name', 'name/sub' → 'name'). */
function packageOf(spec: string): string {
  if (VIRTUAL.test(spec)) return '@sveltejs/kit';
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

const isPackage = (file: string, spec: string) => localTarget(file, spec) === undefined && !spec.startsWith('/') && !isBuiltin(spec);

/** The JavaScript a CI shell script runs inline (`node -e '…'`). */
function inlineNodeScripts(file: string): ImportRef[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/node -e '([^']*)'/g)].flatMap((m) => importsOfScript(m[1]!));
}

interface Use {
  readonly file: string;
  readonly pkg: string;
  readonly typeOnly: boolean;
}

function usesIn(files: readonly string[], importsOfFile: (file: string) => ImportRef[] = importsOf): Use[] {
  return files.flatMap((file) =>
    importsOfFile(file)
      .filter(({ spec }) => isPackage(file, spec))
      .map(({ spec, typeOnly }) => ({ file: relative(ROOT, file), pkg: packageOf(spec), typeOnly })),
  );
}

const RUNTIME = usesIn(['src', 'server', 'crdt-schemas'].flatMap((d) => sourceFiles(join(ROOT, d))));
const CI_DIR = join(ROOT, '.ci');
const TOOLING = [
  ...usesIn(['tests', 'bench'].flatMap((d) => sourceFiles(join(ROOT, d)))),
  ...usesIn(sourceFiles(CI_DIR)),
  ...usesIn([join(CI_DIR, 'run')], inlineNodeScripts),
  ...usesIn(['vite.config.ts', 'vitest.config.ts', 'svelte.config.js'].map((f) => join(ROOT, f))),
];

describe('dependencies', () => {
  it('finds the imports it checks', () => {
    expect(RUNTIME.map((u) => u.pkg)).toContain('yjs');
    expect(TOOLING.map((u) => u.pkg)).toContain('vitest');
    expect(TOOLING.map((u) => u.pkg)).toContain('@sveltejs/adapter-static'); // svelte.config.js
  });

  it('runtime code imports only dependencies (types and the bundled framework excepted)', () => {
    const undeclared = RUNTIME.filter(
      (u) => !DEPENDENCIES.has(u.pkg) && !((u.typeOnly || BUNDLED_FRAMEWORK.has(u.pkg)) && DEV_DEPENDENCIES.has(u.pkg)),
    );
    expect(undeclared.map((u) => `${u.file} → ${u.pkg}`)).toEqual([]);
  });

  it('tests, benchmarks, CI scripts and configs import only declared packages', () => {
    const undeclared = TOOLING.filter((u) => !DEPENDENCIES.has(u.pkg) && !DEV_DEPENDENCIES.has(u.pkg));
    expect(undeclared.map((u) => `${u.file} → ${u.pkg}`)).toEqual([]);
  });

  it('every dependency is imported by runtime code, or used without an import (listed above)', () => {
    const imported = new Set(RUNTIME.filter((u) => !u.typeOnly).map((u) => u.pkg));
    expect([...DEPENDENCIES].filter((p) => !imported.has(p) && !(p in USED_WITHOUT_IMPORT))).toEqual([]);
  });

  it('every devDependency is imported somewhere, or used without an import (listed above)', () => {
    const imported = new Set([...RUNTIME, ...TOOLING].map((u) => u.pkg));
    expect([...DEV_DEPENDENCIES].filter((p) => !imported.has(p) && !(p in USED_WITHOUT_IMPORT))).toEqual([]);
  });

  it('the list of packages used without an import is current: each is declared and really not imported', () => {
    const imported = new Set([...RUNTIME, ...TOOLING].map((u) => u.pkg));
    for (const p of Object.keys(USED_WITHOUT_IMPORT)) {
      expect(DEPENDENCIES.has(p) || DEV_DEPENDENCIES.has(p), `${p} is declared`).toBe(true);
      expect(imported.has(p), `${p} is not imported`).toBe(false);
    }
    expect(pkg.scripts.check).toContain('svelte-check');
  });

  it('no package is declared twice', () => {
    expect([...DEPENDENCIES].filter((p) => DEV_DEPENDENCIES.has(p))).toEqual([]);
  });
});
