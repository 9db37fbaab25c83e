/**
 * Every import of a source file, parsed with the TypeScript compiler (not a regex): static
 * `import … from`, side-effect `import '…'`, `export … from`, dynamic `import()`, `require()`,
 * and `import('…').T` type references, with whether each is erased at runtime (type-only).
 * A .svelte file's imports are those of its <script> blocks. Used by the architecture and
 * dependency tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface ImportRef {
  /** The module specifier as written. */
  readonly spec: string;
  /** Erased when compiled: `import type`, only type specifiers, or an `import('…')` type. */
  readonly typeOnly: boolean;
}

const SOURCE = /\.(ts|svelte|js|mjs|cjs)$/;
const SKIP = new Set(['node_modules', '.svelte-kit', 'build', 'test-results']);

/** Source files under `dir` (recursive), skipping installed and generated folders. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(name)) out.push(path);
  }
  return out;
}

/** The script of a file: a .svelte file's <script> blocks (instance and module), anything else whole. */
export function scriptOf(name: string, text: string): string {
  if (!name.endsWith('.svelte')) return text;
  return [...text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1]).join('\n');
}

const allTypeOnly = (elements: ts.NodeArray<ts.ImportSpecifier | ts.ExportSpecifier>) =>
  elements.length > 0 && elements.every((e) => e.isTypeOnly);

function importDeclarationIsTypeOnly(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (!clause) return false; // import 'x': run for its effect
  if (clause.isTypeOnly) return true;
  if (clause.name) return false;
  return clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && allTypeOnly(clause.namedBindings.elements);
}

const parsed = new Map<string, ImportRef[]>();

/** Every import of `file` (parsed once per test file run). */
export function importsOf(file: string): ImportRef[] {
  let refs = parsed.get(file);
  if (!refs) parsed.set(file, (refs = importsOfScript(scriptOf(file, readFileSync(file, 'utf8')), file)));
  return refs;
}

/** Every import of a script's text (`name` only labels parse errors). */
export function importsOfScript(text: string, name = 'script.ts'): ImportRef[] {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: ImportRef[] = [];
  const literal = (n: ts.Node | undefined) => (n && ts.isStringLiteralLike(n) ? n.text : undefined);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      out.push({ spec: literal(node.moduleSpecifier)!, typeOnly: importDeclarationIsTypeOnly(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      const typeOnly = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && allTypeOnly(node.exportClause.elements));
      out.push({ spec: literal(node.moduleSpecifier)!, typeOnly });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const spec = literal(node.moduleReference.expression);
      if (spec) out.push({ spec, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node)) {
      const dynamic = node.expression.kind === ts.SyntaxKind.ImportKeyword;
      const required = ts.isIdentifier(node.expression) && node.expression.text === 'require';
      const spec = literal(node.arguments[0]);
      if ((dynamic || required) && spec) out.push({ spec, typeOnly: false });
    } else if (ts.isImportTypeNode(node)) {
      const spec = ts.isLiteralTypeNode(node.argument) ? literal(node.argument.literal) : undefined;
      if (spec) out.push({ spec, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** A relative or `$lib` specifier as an absolute path; undefined for a package or a virtual module. */
export function localTarget(file: string, spec: string): string | undefined {
  if (spec.startsWith('.')) return resolve(dirname(file), spec);
  if (spec === '$lib' || spec.startsWith('$lib/')) return join(ROOT, 'src/lib', spec.slice('$lib'.length));
  return undefined;
}
