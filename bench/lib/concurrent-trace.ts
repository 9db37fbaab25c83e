/**
 * Concurrent editing traces (josephg/editing-traces "concurrent" format) and their replay plan.
 *
 * A trace's positions are relative to the document at the txn's parents' version, which a live
 * replica that already merged a concurrent txn no longer is. So each side's plan is computed
 * offline first, with plain Yjs: one doc per agent (its live clientID, the live replicas' start
 * state), each txn made on its agent's doc after merging exactly its ancestors. The live replay
 * then applies each txn's Yjs update to its agent's replica as a LOCAL transaction (the same
 * event a keystroke makes), once that replica has every parent txn; `seen` says whether it has.
 */
import * as Y from 'yjs';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { BENCH_DIR, prng } from './common.ts';
import type { Patch } from './trace.ts';

export interface ConcurrentTxn {
  readonly parents: readonly number[];
  readonly agent: number;
  readonly patches: readonly Patch[];
}

export interface ConcurrentTrace {
  readonly kind: 'concurrent';
  readonly endContent: string;
  readonly numAgents: number;
  readonly txns: readonly ConcurrentTxn[];
}

export function loadConcurrentTrace(name: string): ConcurrentTrace {
  const t = JSON.parse(gunzipSync(readFileSync(join(BENCH_DIR, 'data', name))).toString('utf8')) as ConcurrentTrace;
  if (t.kind !== 'concurrent') throw new Error(`${name} is not a concurrent trace`);
  return t;
}

/**
 * The first `n` txns (parents always precede a txn, so a prefix is causally closed). Its
 * endContent is what plain Yjs makes of the prefix (checked against the file's only when whole).
 */
export function tracePrefix(t: ConcurrentTrace, n: number): ConcurrentTrace {
  if (n >= t.txns.length) return t;
  const txns = t.txns.slice(0, n);
  const docs = Array.from({ length: t.numAgents }, (_, i) => i + 1);
  const plan = planReplay({ ...t, txns, endContent: '' }, { clientIds: docs, start: Y.encodeStateAsUpdateV2(new Y.Doc()), root: 't', expected: false });
  const d = new Y.Doc();
  d.transact(() => {
    for (const p of plan) Y.applyUpdateV2(d, p.update);
  });
  return { ...t, txns, endContent: d.getText('t').toString() };
}

/**
 * A seeded turn-taking trace: `agents` authors take turns (a turn is 1..2*meanTurn txns), each
 * txn one keystroke (mostly an insert, sometimes a backspace, now and then a pasted word), each
 * txn's parent the one before it. Its endContent comes from replaying it on a plain string, not
 * from Yjs.
 */
export function syntheticTurnTaking(o: { seed: number; agents: number; txns: number; meanTurn: number }): ConcurrentTrace {
  const rand = prng(o.seed);
  const words = ['the ', 'blood ', 'pressure ', 'was ', 'normal ', 'today, ', 'see ', 'notes. ', 'dose ', '5 mg '];
  const txns: ConcurrentTxn[] = [];
  let text = '';
  let agent = 0;
  let turnLeft = 0;
  let cursor = 0;
  for (let i = 0; i < o.txns; i++) {
    if (turnLeft === 0) {
      agent = (agent + 1 + Math.floor(rand() * (o.agents - 1))) % o.agents;
      turnLeft = 1 + Math.floor(rand() * 2 * o.meanTurn);
      cursor = Math.floor(rand() * (text.length + 1)); // each turn edits somewhere else
    }
    turnLeft--;
    const r = rand();
    let patch: Patch;
    if (r < 0.12 && cursor > 0) {
      patch = [cursor - 1, 1, ''];
      cursor--;
    } else if (r < 0.17) {
      const w = words[Math.floor(rand() * words.length)]!;
      patch = [cursor, 0, w];
      cursor += w.length;
    } else {
      const c = String.fromCharCode(97 + Math.floor(rand() * 26));
      patch = [cursor, 0, c];
      cursor++;
    }
    text = text.slice(0, patch[0]) + patch[2] + text.slice(patch[0] + patch[1]);
    txns.push({ parents: i === 0 ? [] : [i - 1], agent, patches: [patch] });
  }
  return { kind: 'concurrent', endContent: text, numAgents: o.agents, txns };
}

/** One txn as a replica sees it: the Yjs update its agent made, and how to tell it arrived. */
export interface PlannedTxn {
  readonly agent: number;
  readonly parents: readonly number[];
  readonly update: Uint8Array;
  /** After this txn, the agent's clock (if it inserted anything). */
  readonly insertedUpTo: { client: number; clock: number } | undefined;
  /** Ranges it deleted. */
  readonly deleted: ReadonlyArray<{ client: number; clock: number; len: number }>;
}

/**
 * The replay plan for one side: `clientIds[a]` is agent a's live clientID, `start` the live
 * replicas' common start state, `root` the Y.Text name. Throws unless merging every planned
 * update yields `endContent` (checks this bench's reading of the trace format).
 */
export function planReplay(trace: ConcurrentTrace, o: { clientIds: readonly number[]; start: Uint8Array; root: string; expected?: boolean }): PlannedTxn[] {
  const docs = o.clientIds.map((id) => {
    const d = new Y.Doc();
    Y.applyUpdateV2(d, o.start);
    d.clientID = id;
    return d;
  });
  const seen = docs.map(() => new Set<number>());
  const plan: PlannedTxn[] = [];
  for (let i = 0; i < trace.txns.length; i++) {
    const tx = trace.txns[i]!;
    const doc = docs[tx.agent]!;
    // Merge exactly the txn's ancestors this agent has not merged yet, in causal (index) order.
    const need: number[] = [];
    const stack = [...tx.parents];
    const mine = seen[tx.agent]!;
    while (stack.length > 0) {
      const p = stack.pop()!;
      if (mine.has(p)) continue;
      mine.add(p);
      need.push(p);
      stack.push(...trace.txns[p]!.parents);
    }
    if (need.length > 0) {
      need.sort((a, b) => a - b);
      doc.transact(() => {
        for (const k of need) Y.applyUpdateV2(doc, plan[k]!.update);
      });
    }
    const text = doc.getText(o.root);
    let update: Uint8Array | undefined;
    const grab = (u: Uint8Array) => void (update = u);
    doc.on('updateV2', grab);
    doc.transact(() => {
      for (const [pos, del, ins] of tx.patches) {
        if (del > 0) text.delete(pos, del);
        if (ins.length > 0) text.insert(pos, ins);
      }
    });
    doc.off('updateV2', grab);
    mine.add(i);
    if (!update) throw new Error(`txn ${i} changed nothing`);
    const decoded = Y.decodeUpdateV2(update);
    const deleted: Array<{ client: number; clock: number; len: number }> = [];
    for (const [client, items] of decoded.ds.clients) for (const it of items) deleted.push({ client, clock: it.clock, len: it.len });
    const client = o.clientIds[tx.agent]!;
    const inserted = decoded.structs.some((s) => s.id.client === client);
    plan.push({ agent: tx.agent, parents: tx.parents, update, insertedUpTo: inserted ? { client, clock: Y.getState(doc.store, client) } : undefined, deleted });
  }
  const check = new Y.Doc();
  Y.applyUpdateV2(check, o.start);
  check.transact(() => {
    for (const p of plan) Y.applyUpdateV2(check, p.update); // one merge of thousands is far slower
  });
  if (o.expected !== false && check.getText(o.root).toString() !== trace.endContent) throw new Error('the offline replay plan does not reach endContent');
  for (const d of docs) d.destroy();
  check.destroy();
  return plan;
}

/** Whether `doc` has integrated txn `t` (its inserts, and its deletes applied). */
export function seen(doc: Y.Doc, t: PlannedTxn): boolean {
  if (t.insertedUpTo && Y.getState(doc.store, t.insertedUpTo.client) < t.insertedUpTo.clock) return false;
  for (const d of t.deleted) {
    if (Y.getState(doc.store, d.client) < d.clock + d.len) return false;
    if (!Y.getItem(doc.store, Y.createID(d.client, d.clock)).deleted) return false;
    if (!Y.getItem(doc.store, Y.createID(d.client, d.clock + d.len - 1)).deleted) return false;
  }
  return true;
}
