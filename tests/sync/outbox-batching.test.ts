/**
 * When the outbox seals (decision 0021), on an injected clock and fake timers (no wall clock):
 * a solo burst is held to one record per batch window; while others are active (a remote record
 * applied within othersActiveMs) every record goes out as soon as the previous one is sealed;
 * edits of one synchronous burst, or made while a seal is in flight, join one record.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Outbox, type OutboxBlock } from '../../src/lib/sync/outbox.ts';
import { ProblemList } from '../../src/lib/sync/problems.ts';

const WINDOW = 20;
const ACTIVE = 5_000;

function harness(o: { blocked?: () => OutboxBlock | undefined; manualSeal?: boolean } = {}) {
  const clock = { t: 1_000_000 };
  const sealed: Uint8Array[][] = [];
  const pending: Array<() => void> = [];
  const problems = new ProblemList(() => {});
  const outbox = new Outbox({
    now: () => clock.t,
    batchWindowMs: WINDOW,
    othersActiveMs: ACTIVE,
    problems,
    blocked: o.blocked ?? (() => undefined),
    seal: async (updates) => {
      if (o.manualSeal) await new Promise<void>((r) => pending.push(r));
      sealed.push(updates);
    },
    refusal: () => undefined,
    sealed: async () => {},
    changed: () => {},
  });
  outbox.useSession(1);
  return { clock, sealed, pending, outbox, problems };
}

/** Lets queued microtasks and promise continuations run (no timers fire: they are fake). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

const u = (n: number) => new Uint8Array([n]);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('outbox batching', () => {
  it('seals the first edit after a quiet period at once, and one synchronous burst as one record', async () => {
    const h = harness();
    h.outbox.push(u(1));
    h.outbox.push(u(2));
    await settle();
    expect(h.sealed).toEqual([[u(1), u(2)]]);
  });

  it('holds a solo burst to one record per batch window', async () => {
    const h = harness();
    h.outbox.push(u(1));
    await settle();
    h.clock.t += 5;
    h.outbox.push(u(2));
    h.clock.t += 5;
    h.outbox.push(u(3));
    await settle();
    expect(h.sealed).toHaveLength(1); // held: nobody else is waiting for them
    h.clock.t += 10;
    vi.advanceTimersByTime(WINDOW);
    await settle();
    expect(h.sealed).toEqual([[u(1)], [u(2), u(3)]]);
  });

  it('seals each edit at once while others are active', async () => {
    const h = harness();
    h.outbox.remoteApplied();
    for (let i = 1; i <= 3; i++) {
      h.clock.t += 1;
      h.outbox.push(u(i));
      await settle();
    }
    expect(h.sealed).toEqual([[u(1)], [u(2)], [u(3)]]);
  });

  it('cuts a solo burst short when a remote record arrives', async () => {
    const h = harness();
    h.outbox.push(u(1));
    await settle();
    h.clock.t += 2;
    h.outbox.push(u(2));
    await settle();
    expect(h.sealed).toHaveLength(1);
    h.outbox.remoteApplied();
    await settle();
    expect(h.sealed).toEqual([[u(1)], [u(2)]]);
  });

  it('goes back to batching once others have been quiet for othersActiveMs', async () => {
    const h = harness();
    h.outbox.remoteApplied();
    h.clock.t += ACTIVE - 1;
    expect(h.outbox.othersActive).toBe(true);
    h.clock.t += 1;
    expect(h.outbox.othersActive).toBe(false);
    h.outbox.push(u(1));
    await settle();
    h.clock.t += 1;
    h.outbox.push(u(2));
    await settle();
    expect(h.sealed).toHaveLength(1);
    vi.advanceTimersByTime(WINDOW);
    await settle();
    expect(h.sealed).toHaveLength(2);
  });

  it('while others are active, edits made during a seal in flight join the next record', async () => {
    const h = harness({ manualSeal: true });
    h.outbox.remoteApplied();
    h.outbox.push(u(1));
    await settle();
    h.outbox.push(u(2));
    h.outbox.push(u(3));
    await settle();
    expect(h.pending).toHaveLength(1); // one seal in flight, nothing else started
    h.pending.shift()!();
    await settle();
    expect(h.pending).toHaveLength(1); // the next one started without waiting for a timer
    h.pending.shift()!();
    await settle();
    expect(h.sealed).toEqual([[u(1)], [u(2), u(3)]]);
  });

  it('flush seals a held solo burst without its timer, and stops at a blocked reason', async () => {
    let block: OutboxBlock | undefined;
    const h = harness({ blocked: () => block });
    h.outbox.push(u(1));
    await settle();
    h.outbox.push(u(2));
    await h.outbox.flush();
    expect(h.sealed).toEqual([[u(1)], [u(2)]]);
    block = 'no-key';
    h.outbox.remoteApplied();
    h.outbox.push(u(3));
    await h.outbox.flush();
    expect(h.outbox.queued).toBe(1);
    expect(h.outbox.blocked).toBe('no-key');
    block = undefined;
    h.outbox.schedule();
    await settle();
    expect(h.sealed).toEqual([[u(1)], [u(2)], [u(3)]]);
  });
});
