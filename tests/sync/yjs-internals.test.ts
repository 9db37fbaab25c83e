/**
 * The Yjs internals src/lib/sync/yjs-internals.ts reads still mean what it assumes. A Yjs
 * release that renames or changes one of them fails here, not silently in the client gate,
 * the change tracker or history.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { hasPending, rootOf, usesClient, valuesWithClient } from '../../src/lib/sync/yjs-internals.ts';

describe('Yjs internals adapter', () => {
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
});
