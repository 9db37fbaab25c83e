/**
 * Same-field concurrent edits, on real Yjs docs (docs/decisions/0041): a notice iff a value of
 * this device was lost to a write that never saw it, on both sides, in both orders of delivery,
 * also when this device's write was never sent before the other's arrived.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fieldConflicts, type FieldConflict } from '../../src/lib/sync/field-conflicts.ts';
import { createPrng, testSeed } from '../helpers/prng.ts';

const REMOTE = Symbol('remote');
/** Values are `<device><n>:<field>`, n counting writes in a round. */
const seqOf = (v: string): number => Number(v.slice(1, v.indexOf(':')));
const FILE = 'tests/sync/field-conflicts.test.ts';

/** A device's plain doc with the conflicts its remote transactions reported. */
function device(clientID: number) {
  const doc = new Y.Doc();
  doc.clientID = clientID;
  const seen: FieldConflict[] = [];
  /** This device's own updates, as its outbox seals them (with their contents, before any GC). */
  const sent: Uint8Array[] = [];
  doc.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE) sent.push(u);
  });
  doc.on('afterTransaction', (tr: Y.Transaction) => {
    if (tr.origin !== REMOTE) return;
    seen.push(...fieldConflicts(doc, tr, { isOwn: (c) => c === doc.clientID, watches: (root) => root === 'allergies' }));
  });
  return { doc, seen, sent, delivered: 0 };
}
type Device = ReturnType<typeof device>;

const fields = (doc: Y.Doc, id: string) => doc.getMap<Y.Map<unknown>>('allergies').get(id)!;
/**
 * What the relay carries: each device's own updates as sealed (the app never sends a state diff
 * of the plain doc), the ones `to` lacks, as one batch or one by one.
 */
function deliver(from: Device, to: Device, oneBatch = true): void {
  const fresh = from.sent.slice(to.delivered);
  to.delivered = from.sent.length;
  if (fresh.length === 0) return;
  if (oneBatch) Y.applyUpdate(to.doc, Y.mergeUpdates(fresh), REMOTE);
  else for (const u of fresh) Y.applyUpdate(to.doc, u, REMOTE);
}

/** Two devices sharing record r1 with a field already synced. */
function pair(a = 1, b = 2) {
  const A = device(a);
  const B = device(b);
  A.doc.transact(() => {
    const m = new Y.Map<unknown>();
    A.doc.getMap('allergies').set('r1', m);
    m.set('note', 'start');
  });
  deliver(A, B);
  return { A, B };
}

describe('same-field conflicts on real Yjs docs', () => {
  for (const [a, b] of [
    [1, 2],
    [2, 1],
  ] as const) {
    it(`both sides learn of it, whichever clientID wins and whichever side receives first (A=${a}, B=${b})`, () => {
      const { A, B } = pair(a, b);
      fields(A.doc, 'r1').set('note', 'from A');
      fields(B.doc, 'r1').set('note', 'from B'); // concurrent: neither saw the other
      deliver(B, A); // A's write has not been sent yet when B's arrives
      deliver(A, B);
      const kept = fields(A.doc, 'r1').get('note');
      expect(fields(B.doc, 'r1').get('note')).toBe(kept);
      const winnerIsA = kept === 'from A';
      expect(A.seen).toEqual([
        { root: 'allergies', record: 'r1', field: 'note', lost: winnerIsA ? 'theirs' : 'mine', lostValue: winnerIsA ? 'from B' : 'from A', keptValue: kept, otherClient: b },
      ]);
      expect(B.seen).toEqual([
        { root: 'allergies', record: 'r1', field: 'note', lost: winnerIsA ? 'mine' : 'theirs', lostValue: winnerIsA ? 'from B' : 'from A', keptValue: kept, otherClient: a },
      ]);
    });
  }

  it('a write made on top of the other value is an ordinary edit, not a conflict', () => {
    const { A, B } = pair();
    fields(A.doc, 'r1').set('note', 'from A');
    deliver(A, B);
    fields(B.doc, 'r1').set('note', 'B corrects A');
    deliver(B, A);
    expect(fields(A.doc, 'r1').get('note')).toBe('B corrects A');
    expect(A.seen).toEqual([]);
    expect(B.seen).toEqual([]);
  });

  it('different fields of one record edited at once merge and say nothing', () => {
    const { A, B } = pair();
    fields(A.doc, 'r1').set('note', 'from A');
    fields(B.doc, 'r1').set('severity', 'high');
    deliver(B, A);
    deliver(A, B);
    expect(fields(A.doc, 'r1').toJSON()).toEqual({ note: 'from A', severity: 'high' });
    expect([...A.seen, ...B.seen]).toEqual([]);
  });

  it('the same value typed on both sides loses nothing', () => {
    const { A, B } = pair();
    fields(A.doc, 'r1').set('note', 'same');
    fields(B.doc, 'r1').set('note', 'same');
    deliver(B, A);
    deliver(A, B);
    expect([...A.seen, ...B.seen]).toEqual([]);
  });

  it('roots outside the watched sections are not looked at', () => {
    const A = device(1);
    const B = device(2);
    A.doc.transact(() => A.doc.getMap('other').set('r1', new Y.Map()));
    deliver(A, B);
    (A.doc.getMap<Y.Map<unknown>>('other').get('r1')!).set('x', 1);
    (B.doc.getMap<Y.Map<unknown>>('other').get('r1')!).set('x', 2);
    deliver(B, A);
    deliver(A, B);
    expect([...A.seen, ...B.seen]).toEqual([]);
  });

  const name = 'seeded: random concurrent field writes';
  it(`${name} and deliveries; a notice iff a value of this device was lost`, () => {
    const seed = testSeed();
    console.log(`field-conflicts seed ${seed}; rerun: TEST_SEED=${seed} npx vitest run ${FILE} -t "${name}"`);
    expect(runSeed(seed, name).notices, 'the run made conflicts').toBeGreaterThan(0);
  });
  // Seeds that once found a gap (in the test's model of "what the writer saw"), kept.
  it.each([1775596977, 696022845])('fixture seed %i', (seed) => {
    expect(runSeed(seed, 'fixture seed').notices).toBeGreaterThan(0);
  });
});

function runSeed(seed: number, name: string): { notices: number } {
  {
    const prng = createPrng(seed);
    let notices = 0;
    const trace: string[] = [];
    try {
      for (let round = 0; round < 40; round++) {
        const [ca, cb] = prng.bool() ? [1, 2] : [2, 1];
        const { A, B } = pair(ca, cb);
        const devs = { A, B };
        const FIELDS = ['note', 'severity'];
        // What each doc has integrated, per field: every value id (values are unique).
        const known = new Map<Y.Doc, Set<string>>([
          [A.doc, new Set()],
          [B.doc, new Set()],
        ]);
        /** Per written value: the field's value on its writer's screen when it was written (what it was made on top of). */
        const builtOn = new Map<string, unknown>();
        const writer = new Map<string, Y.Doc>();
        let n = 0;
        for (let step = 0; step < 30; step++) {
          const roll = prng.next();
          const [who, other] = prng.bool() ? (['A', 'B'] as const) : (['B', 'A'] as const);
          const d = devs[who];
          const o = devs[other];
          if (roll < 0.6) {
            const field = prng.pick(FIELDS);
            const value = `${who}${n++}:${field}`;
            builtOn.set(value, fields(d.doc, 'r1').get(field));
            writer.set(value, d.doc);
            known.get(d.doc)!.add(value);
            fields(d.doc, 'r1').set(field, value);
            trace.push(`${who}.set(${field})`);
          } else {
            // Deliver everything `d` has that `o` lacks, and check what `o` reports against the model.
            const incoming = [...known.get(d.doc)!].filter((v) => !known.get(o.doc)!.has(v));
            const before = Object.fromEntries(FIELDS.map((f) => [f, fields(o.doc, 'r1').get(f)]));
            const reported = o.seen.length;
            deliver(d, o);
            for (const v of incoming) known.get(o.doc)!.add(v);
            trace.push(`${who}→${other}`);
            const expected: FieldConflict[] = [];
            for (const f of FIELDS) {
              const was = before[f] as string;
              const now = fields(o.doc, 'r1').get(f) as string;
              if (writer.get(was) !== o.doc) continue; // not this device's value
              const arrived = incoming.filter((v) => v.endsWith(`:${f}`));
              if (now !== was) {
                if (!arrived.some((v) => builtOn.get(v) === was)) {
                  expected.push({ root: 'allergies', record: 'r1', field: f, lost: 'mine', lostValue: was, keptValue: now, otherClient: d.doc.clientID });
                }
              } else if (arrived.length > 0) {
                // The other device's last write to the field (its writes follow each other there).
                const newest = arrived.reduce((x, y) => (seqOf(y) > seqOf(x) ? y : x));
                expected.push({ root: 'allergies', record: 'r1', field: f, lost: 'theirs', lostValue: newest, keptValue: now, otherClient: d.doc.clientID });
              }
            }
            const got = o.seen.slice(reported).sort((x, y) => x.field.localeCompare(y.field));
            notices += got.length;
            expect(got, trace.join(' ')).toEqual(expected.sort((x, y) => x.field.localeCompare(y.field)));
          }
        }
        trace.push('|');
      }
    } catch (e) {
      (e as Error).message += `\n  seed: ${seed}\n  rerun: TEST_SEED=${seed} npx vitest run ${FILE} -t "${name}"`;
      throw e;
    }
    return { notices };
  }
}
