/**
 * Plain-doc layout, version 1 (until the FHIR-shaped health-record schemas land):
 * every root type's kind follows from its name, so a replica that received data before it
 * touched a section still knows how to read it.
 *   note:<name>  Y.Text   collaborative notes
 *   list:<name>  Y.Array  append-mostly logs (vitals, doses, journal)
 *   <section>    Y.Map    keyed records (allergies, conditions, medications, ...)
 */
import type * as Y from 'yjs';

export const LAYOUT_VERSION = 1;
export type RootKind = 'text' | 'array' | 'map';

export const noteRoot = (name: string): string => `note:${name}`;
export const listRoot = (name: string): string => `list:${name}`;

export function rootKind(name: string): RootKind {
  return name.startsWith('note:') ? 'text' : name.startsWith('list:') ? 'array' : 'map';
}

export function typedRoot(doc: Y.Doc, name: string): Y.Text | Y.Array<unknown> | Y.Map<unknown> {
  const kind = rootKind(name);
  return kind === 'text' ? doc.getText(name) : kind === 'array' ? doc.getArray(name) : doc.getMap(name);
}

/** The whole plain doc as JSON, each root read as its layout kind; empty roots are left out. */
export function docToJSON(doc: Y.Doc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of [...doc.share.keys()].sort()) {
    const root = typedRoot(doc, name);
    if (('size' in root ? root.size : root.length) === 0) continue;
    out[name] = root.toJSON();
  }
  return out;
}
