/**
 * Undo and redo of this device's own edits (Y.UndoManager over the record sections and open
 * notes, tracking only LOCAL_ORIGIN transactions). Remote edits are never undone; an undo is a
 * new local edit, sealed and synced like any other, and leaves an undo/redo mark in history.
 */
import * as Y from 'yjs';
import { Observable } from '../sync/observable.ts';
import { LOCAL_ORIGIN, ProfileRecords, isLogSection } from './records.ts';
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
    this.manager.on('stack-item-popped', (e) => {
      publish();
      for (const [section, id] of this.touched(e.changedParentTypes)) this.records.noteUndo(section, id, e.type === 'undo' ? 'undo' : 'redo');
    });
    this.manager.on('stack-cleared', publish);
  }

  /** Notes join the undo scope when they are opened. */
  track(type: Y.Text): void {
    this.manager.addToScope(type);
  }

  undo(): boolean {
    return this.manager.undo() !== null;
  }

  redo(): boolean {
    return this.manager.redo() !== null;
  }

  /** Ends the current capture group (the next edit is undone on its own). */
  stopCapturing(): void {
    this.manager.stopCapturing();
  }

  destroy(): void {
    this.manager.destroy();
  }

  /** The (section, record id) pairs an undo step changed, for the history marks. */
  private touched(changed: Map<Y.AbstractType<any>, Y.YEvent<any>[]>): Array<[string, string]> {
    const out = new Map<string, [string, string]>();
    const nameOf = new Map<unknown, string>([...this.doc.share].map(([n, t]) => [t, n]));
    for (const [type, events] of changed) {
      const section = nameOf.get(type);
      if (!section || section.startsWith('note:')) continue;
      for (const ev of events) {
        if (type instanceof Y.Map) for (const key of (ev as Y.YMapEvent<unknown>).keysChanged) if (key) out.set(`${section}/${key}`, [section, key]);
        if (type instanceof Y.Array) {
          for (const item of [...ev.changes.added, ...ev.changes.deleted]) {
            for (const rec of item.content.getContent() as Array<{ id?: unknown }>) {
              if (typeof rec?.id === 'string') out.set(`${section}/${rec.id}`, [section, rec.id]);
            }
          }
        }
      }
    }
    return [...out.values()];
  }
}
