/**
 * docs/decisions/0036: the relay posts an accepted update's append to its SQLite worker only
 * after Hocuspocus has applied and forwarded it (persistence.ts), and still acknowledges only
 * what is durable: `settled` (what durable-ack.ts holds the SyncStatus on) includes an append
 * that has not been posted yet. Driven on the extension with a store that records and holds.
 */
import { Document, type Connection } from '@hocuspocus/server';
import * as Y from 'yjs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../server/config.ts';
import { persistenceExtension } from '../../server/persistence.ts';
import type { LogPosition, RelayStore } from '../../server/storage/relay-store.ts';

function recordingStore(log: string[]) {
  const held: Array<() => void> = [];
  let position = 0;
  const store = {
    load: async () => undefined,
    append: (_name: string, update: Uint8Array) => {
      const d = new Y.Doc();
      Y.applyUpdate(d, update);
      log.push(`append ${d.getText('t').toString()}`);
      return new Promise<LogPosition>((r) => held.push(() => r(++position as LogPosition)));
    },
  } as unknown as RelayStore;
  return { store, release: () => held.shift()?.() };
}

function anUpdate(text: string): Uint8Array {
  const d = new Y.Doc();
  d.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(d);
}

const flushMicrotasks = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

describe('append after forward (0036)', () => {
  it('posts the append once Hocuspocus finished the message, in acceptance order, and settles only when it is durable', async () => {
    const log: string[] = [];
    const { store, release } = recordingStore(log);
    const persistence = persistenceExtension(store, defaultConfig({ quiet: true }), { onWriteFailed: () => undefined });
    const document = new Document('doc-a');
    const a = {} as Connection;
    const b = {} as Connection;
    persistence.persistAccepted({ document, connection: a, update: anUpdate('a'), bindings: [], changesRecords: true });
    const settled = persistence.settled(document);
    let durable = false;
    void settled.then(() => (durable = true));
    await flushMicrotasks();
    // Hocuspocus is still applying and forwarding: nothing posted yet.
    expect(log).toEqual([]);
    log.push('forwarded a');
    await persistence.afterHandleMessage!({ document, connection: a } as never);
    await flushMicrotasks();
    expect(log).toEqual(['forwarded a', 'append a']);
    // A second message, accepted while the first is being written, waits for it (order kept).
    persistence.persistAccepted({ document, connection: b, update: anUpdate('b'), bindings: [], changesRecords: true });
    await persistence.afterHandleMessage!({ document, connection: b } as never);
    await flushMicrotasks();
    expect(log).toEqual(['forwarded a', 'append a']);
    expect(durable).toBe(false);
    release();
    await flushMicrotasks();
    // The first committed; `settled` taken before the second was accepted resolves now.
    expect(durable).toBe(true);
    expect(log).toEqual(['forwarded a', 'append a', 'append b']);
    let secondDurable = false;
    void persistence.settled(document).then(() => (secondDurable = true));
    await flushMicrotasks();
    expect(secondDurable).toBe(false);
    release();
    await flushMicrotasks();
    expect(secondDurable).toBe(true);
  });

  it('posts the append at the end of the event-loop turn if the message never reaches afterHandleMessage', async () => {
    const log: string[] = [];
    const { store, release } = recordingStore(log);
    const persistence = persistenceExtension(store, defaultConfig({ quiet: true }), { onWriteFailed: () => undefined });
    const document = new Document('doc-b');
    persistence.persistAccepted({ document, connection: {} as Connection, update: anUpdate('x'), bindings: [], changesRecords: true });
    let durable = false;
    void persistence.settled(document).then(() => (durable = true));
    await flushMicrotasks();
    expect(log).toEqual([]);
    await new Promise((r) => setImmediate(r));
    await flushMicrotasks();
    expect(log).toEqual(['append x']);
    expect(durable).toBe(false);
    release();
    await flushMicrotasks();
    expect(durable).toBe(true);
  });
});
