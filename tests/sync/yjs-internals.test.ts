/**
 * The Yjs internals src/lib/sync/yjs-internals.ts reads still mean what it assumes. A Yjs
 * release that renames or changes one of them fails here, not silently in the client gate,
 * the change tracker or history.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { hasPending, mapKeyWrites, parentMapKey, rootOf, transactionChanged, usesClient, valuesWithClient, type MapKeyWrite } from '../../src/lib/sync/yjs-internals.ts';
import { withSeed } from '../helpers/prng.ts';

describe('Yjs internals adapter', () => {
  const changedSweep = 'transactionChanged: true exactly when Yjs emits an update for the transaction';
  it(changedSweep, () =>
    withSeed('tests/sync/yjs-internals.test.ts', changedSweep, async (prng) => {
      const doc = new Y.Doc();
      const other = new Y.Doc();
      let emitted = false;
      const seen: boolean[] = [];
      doc.on('update', () => void (emitted = true));
      doc.on('afterTransaction', (tr: Y.Transaction) => seen.push(transactionChanged(tr)));
      const text = doc.getText('t');
      const map = doc.getMap('m');
      for (let i = 0; i < 300; i++) {
        emitted = false;
        seen.length = 0;
        const kind = prng.int(0, 6);
        if (kind === 0) text.insert(prng.int(0, text.length), 'ab'.slice(0, prng.int(1, 2)));
        else if (kind === 1 && text.length > 0) text.delete(prng.int(0, text.length - 1), 1);
        else if (kind === 2) map.set(`k${prng.int(0, 4)}`, i);
        else if (kind === 3) map.delete(`k${prng.int(0, 4)}`); // often a key that is not there: no change
        else if (kind === 4) doc.transact(() => undefined); // an empty transaction
        else if (kind === 5) {
          other.getMap('m').set(`o${i}`, i);
          Y.applyUpdate(doc, Y.encodeStateAsUpdate(other)); // often already known: no change
        } else Y.applyUpdate(doc, Y.encodeStateAsUpdate(doc)); // its own state again: no change
        expect(seen).toEqual([emitted]);
      }
    }),
  );

  it('hasPending: structs whose dependency is missing are pending until it arrives', () => {
    const source = new Y.Doc();
    const first = Y.encodeStateAsUpdate(source);
    source.getMap('m').set('a', 1);
    const withA = Y.encodeStateAsUpdate(source);
    const sv = Y.encodeStateVector(source);
    source.getMap('m').set('b', 2);
    const onlyB = Y.encodeStateAsUpdate(source, sv);
    const target = new Y.Doc();
    Y.applyUpdate(target, first);
    expect(hasPending(target)).toBe(false);
    Y.applyUpdate(target, onlyB); // its left origin (a) is unknown here
    expect(hasPending(target)).toBe(true);
    expect(target.getMap('m').has('b')).toBe(false);
    Y.applyUpdate(target, withA);
    expect(hasPending(target)).toBe(false);
    expect(target.getMap('m').toJSON()).toEqual({ a: 1, b: 2 });
  });

  it('usesClient: true exactly for the clientIDs whose structs the doc holds (what its state vector lists)', () => {
    const source = new Y.Doc();
    source.clientID = 7;
    source.getText('t').insert(0, 'x');
    const target = new Y.Doc();
    target.clientID = 9;
    expect(usesClient(target, 7)).toBe(false);
    Y.applyUpdate(target, Y.encodeStateAsUpdate(source));
    expect(usesClient(target, 7)).toBe(true);
    expect(usesClient(target, 9)).toBe(false); // its own, with nothing written on it yet
    expect([...Y.decodeStateVector(Y.encodeStateVector(target)).keys()]).toEqual([7]);
  });

  it('rootOf: a nested map belongs to the root map it sits in', () => {
    const doc = new Y.Doc();
    const root = doc.getMap('allergies');
    const nested = new Y.Map();
    const deeper = new Y.Map();
    root.set('x', nested);
    nested.set('y', deeper);
    expect(rootOf(deeper)).toBe(root);
    expect(rootOf(root)).toBe(root);
  });

  it('valuesWithClient: live values in order, each with the clientID of its item', () => {
    const a = new Y.Doc();
    a.clientID = 11;
    const b = new Y.Doc();
    b.clientID = 22;
    a.getArray('h').push(['a1', 'a2']);
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    b.getArray('h').push(['b1']);
    b.getArray('h').delete(0, 1);
    const seen = [...valuesWithClient(b.getArray('h'))].flatMap(({ client, values }) => values.map((v) => `${client}:${v}`));
    expect(seen).toEqual(['11:a2', '22:b1']);
  });

  it('mapKeyWrites and parentMapKey: a key\'s writes oldest first, with origin, added/deleted in the transaction, and values', () => {
    const a = new Y.Doc();
    a.clientID = 1;
    const b = new Y.Doc();
    b.clientID = 2;
    const fields = new Y.Map<unknown>();
    a.getMap('allergies').set('r1', fields);
    fields.set('note', 'first');
    expect(parentMapKey(fields)).toEqual({ parent: a.getMap('allergies'), key: 'r1' });
    expect(parentMapKey(a.getMap('allergies'))).toBeUndefined();
    Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
    (b.getMap('allergies').get('r1') as Y.Map<unknown>).set('note', 'from b'); // made on top of 'first'
    fields.set('note', 'from a'); // concurrent with b's
    let seen: MapKeyWrite[] = [];
    a.on('afterTransaction', (tr: Y.Transaction) => {
      if (tr.origin === 'remote') seen = mapKeyWrites(fields, 'note', tr);
    });
    Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)), 'remote');
    // 'first' was overwritten in an earlier transaction: Yjs dropped its content (gc).
    expect(seen.map((w) => w.value)).toEqual([undefined, 'from a', 'from b']); // the higher clientID wins
    const byValue = { first: seen[0], 'from a': seen[1], 'from b': seen[2] };
    expect(byValue['from b']).toMatchObject({ client: 2, added: true, deleted: false, origin: { client: 1, clock: byValue.first!.clock } });
    expect(byValue['from a']).toMatchObject({ client: 1, added: false, deleted: true, deletedNow: true });
    expect(byValue.first).toMatchObject({ added: false, deleted: true, deletedNow: false });
  });
});
