/**
 * Undo and redo of this device's own edits (Y.UndoManager over the record sections and open
 * notes, tracking only LOCAL_ORIGIN transactions). Remote edits are never undone; an undo is a
 * new local edit, sealed and synced like any other, and leaves an undo/redo mark in history.
 */
import * as Y from 'yjs';
import { Observable } from '../sync/observable.ts';
import { LOCAL_ORIGIN, ProfileRecords, isLogSection, plainValue } from './records.ts';
import type { SectionName } from './health.ts';

export interface UndoState {
  readonly canUndo: boolean;
  readonly canRedo: boolean;
}

export class UndoController {
  readonly state = new Observable<UndoState>({ canUndo: false, canRedo: false });
  private readonly manager: Y.UndoManager;
  private readonly doc: Y.Doc;
  private readonly records: ProfileRecords;

  constructor(doc: Y.Doc, records: ProfileRecords) {
    this.doc = doc;
    this.records = records;
    const scope = ProfileRecords.roots().map((name) => (isLogSection(name as SectionName) ? doc.getArray(name) : doc.getMap(name)));
    this.manager = new Y.UndoManager(scope, { trackedOrigins: new Set([LOCAL_ORIGIN]), captureTimeout: 500 });
    const publish = () => this.state.set({ canUndo: this.manager.canUndo(), canRedo: this.manager.canRedo() });
    this.manager.on('stack-item-added', publish);
    this.manager.on('stack-item-popped', publish);
    this.manager.on('stack-cleared', publish);
  }

  /** Notes join the undo scope when they are opened. */
  track(type: Y.Text): void {
    this.manager.addToScope(type);
  }

  undo(): boolean {
    return this.step('undo');
  }

  redo(): boolean {
    return this.step('redo');
  }

  /** Runs one step and marks each record it changed in history (found by comparing before and after). */
  private step(action: 'undo' | 'redo'): boolean {
    const before = this.recordRefs();
    const done = (action === 'undo' ? this.manager.undo() : this.manager.redo()) !== null;
    if (!done) return false;
    const after = this.recordRefs();
    const touched = new Set<string>();
    for (const [k, v] of before) if (after.get(k) !== v) touched.add(k);
    for (const k of after.keys()) if (!before.has(k)) touched.add(k);
    for (const k of touched) {
      const [section, id] = JSON.parse(k) as [string, string];
      this.records.noteUndo(section, id, action);
    }
    return true;
  }

  /** Every record in the undo scope by (section, id), with its content as JSON text. */
  private recordRefs(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of ProfileRecords.roots()) {
      if (isLogSection(name as SectionName)) {
        for (const r of this.doc.getArray<{ id?: unknown }>(name).toArray()) if (typeof r?.id === 'string') out.set(JSON.stringify([name, r.id]), JSON.stringify(r));
      } else {
        for (const [id, r] of this.doc.getMap(name)) out.set(JSON.stringify([name, id]), JSON.stringify(plainValue(r)));
      }
    }
    return out;
  }

  /**
   * Runs `edits` (which may await between its transactions, an import sealing its chunks one by
   * one) as one undo step: every own transaction until it settles joins one stack item.
   */
  async asOneStep<T>(edits: () => Promise<T>): Promise<T> {
    const timeout = this.manager.captureTimeout;
    this.manager.stopCapturing();
    this.manager.captureTimeout = Number.POSITIVE_INFINITY;
    try {
      return await edits();
    } finally {
      this.manager.captureTimeout = timeout;
      this.manager.stopCapturing();
    }
  }

  /** Ends the current capture group (the next edit is undone on its own). */
  stopCapturing(): void {
    this.manager.stopCapturing();
  }

  destroy(): void {
    this.manager.destroy();
  }
}
