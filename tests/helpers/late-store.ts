/**
 * A device store that commits after the change event returns, like IndexedDB, and can lose what
 * it had not committed yet (a tab reloaded or closed mid-write): for store-first tests. Its
 * `stored()` resolves once everything given so far is committed.
 */
import * as Y from 'yjs';
import type { Persistence } from '../../src/lib/storage/types.ts';

const LOADED = Symbol('late-store');

export interface LateStore {
  readonly persistence: Persistence;
  /** Stop committing (writes pile up uncommitted) until `resume()`. */
  hold(): void;
  resume(): void;
  /** The page goes away mid-write: what was not committed is gone, and the old open writes nothing more. */
  crash(): void;
  /** Committed changes for `name`. */
  committed(name: string): number;
  /** Resolves once everything given so far is committed (as an open's `stored()`). */
  settled(): Promise<void>;
  /**
   * The store loses what it had committed for `name` after its first `count` changes: an OS crash
   * under relaxed durability, or a device restored from an older backup. Its next open sees less
   * than the relay holds.
   */
  rollBack(name: string, count: number): void;
}

export function lateStore(): LateStore {
  const committed = new Map<string, Uint8Array[]>();
  let pending: Array<{ name: string; update: Uint8Array }> = [];
  let waiters: Array<() => void> = [];
  let holding = false;
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const commit = () => {
    timer = undefined;
    if (holding) return;
    for (const { name, update } of pending) committed.get(name)!.push(update);
    pending = [];
    for (const w of waiters.splice(0)) w();
  };
  const schedule = () => {
    if (!holding) timer ??= setTimeout(commit, 0);
  };
  const persistence: Persistence = (envelope, name) => {
    const mine = generation;
    const list = committed.get(name) ?? [];
    committed.set(name, list);
    if (list.length) Y.applyUpdate(envelope, Y.mergeUpdates(list), LOADED);
    const onUpdate = (update: Uint8Array, origin: unknown) => {
      if (origin === LOADED || mine !== generation) return;
      pending.push({ name, update });
      schedule();
    };
    envelope.on('update', onUpdate);
    const stored = () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        schedule();
      });
    return Object.assign(() => envelope.off('update', onUpdate), { stored });
  };
  return {
    persistence,
    hold: () => void (holding = true),
    resume: () => {
      holding = false;
      schedule();
    },
    crash: () => {
      generation++;
      pending = [];
      waiters = [];
      holding = false;
    },
    committed: (name) => committed.get(name)?.length ?? 0,
    settled: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        schedule();
      }),
    rollBack: (name, count) => void committed.get(name)?.splice(count),
  };
}
