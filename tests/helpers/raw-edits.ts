/**
 * Raw plain-doc edits for tests that need data to sync and do not care about its shape. They
 * go through the engine door (vault/engine.ts), not the facade: the app, the CLI and the vault
 * write only through records, notes and system maps, which validate.
 */
import type { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

export function setField(p: Profile, section: string, key: string, value: Json): void {
  const doc = engineOf(p).plainDoc;
  doc.transact(() => doc.getMap<Json>(section).set(key, value));
}

export function deleteField(p: Profile, section: string, key: string): void {
  const doc = engineOf(p).plainDoc;
  doc.transact(() => doc.getMap<Json>(section).delete(key));
}

export function insertNote(p: Profile, name: string, index: number, text: string): void {
  engineOf(p).plainDoc.getText(`note:${name}`).insert(index, text);
}

export function appendToList(p: Profile, section: string, values: Json[]): void {
  engineOf(p).plainDoc.getArray<Json>(`list:${section}`).push(values);
}
