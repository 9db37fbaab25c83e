/**
 * One tab at a time holds the vault (state/tab-claim.ts, decision 0064): the lock passes to
 * another tab only once the holder's session is closed, whatever the interleaving. Each case
 * here was a real fault found by attacking the first version (see the decision).
 */
import { describe, expect, it } from 'vitest';
import { TabClaim } from '../../src/lib/state/tab-claim.ts';
import { fakeChannels, fakeLocks } from '../helpers/fake-tabs.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** A tab whose session takes `closeMs` to close, logging when it starts and ends. */
function tab(name: string, log: string[], env: { locks: LockManager; channels: ReturnType<typeof fakeChannels> }, o: { closeMs?: number; deaf?: boolean; silentHolderMs?: number } = {}) {
  return new TabClaim({
    locks: env.locks,
    channel: () => env.channels({ deaf: o.deaf }),
    silentHolderMs: o.silentHolderMs,
    letGo: async () => {
      log.push(`${name} closes`);
      await tick(o.closeMs ?? 0);
      log.push(`${name} closed`);
    },
  });
}

describe('TabClaim: one tab holds the vault', () => {
  it('a second tab gets the lock only after the holder closed; a third asking meanwhile does not cut it short', async () => {
    const env = { locks: fakeLocks(), channels: fakeChannels() };
    const log: string[] = [];
    const a = tab('A', log, env, { closeMs: 150 });
    expect(await a.claim()).toBe(true);
    const [b, c] = [tab('B', log, env), tab('C', log, env, { silentHolderMs: 5_000 })];
    expect(await b.claim()).toBe(false);
    const bHolds = b.takeOver().then(() => log.push('B holds'));
    await tick(20);
    void c.takeOver().then(() => log.push('C holds'));
    await bHolds;
    expect(log).toEqual(['A closes', 'A closed', 'B holds']);
    expect([a.held, b.held, c.held]).toEqual([false, true, false]);
  });

  it("the holder's own takeOver during its handover waits for it, then queues behind the new holder", async () => {
    const env = { locks: fakeLocks(), channels: fakeChannels() };
    const log: string[] = [];
    const a = tab('A', log, env, { closeMs: 100 });
    const b = tab('B', log, env);
    expect(await a.claim()).toBe(true);
    const bHolds = b.takeOver().then(() => log.push('B holds'));
    await tick(20);
    expect(a.held).toBe(false);
    await a.takeOver();
    log.push('A holds');
    await bHolds;
    expect(log).toEqual(['A closes', 'A closed', 'B holds', 'B closes', 'B closed', 'A holds']);
    expect([a.held, b.held]).toEqual([true, false]);
  });

  it('a holder that answered but closes slowly is waited for, not robbed; a silent one is robbed and closes when it wakes', async () => {
    const env = { locks: fakeLocks(), channels: fakeChannels() };
    const log: string[] = [];
    const slow = tab('slow', log, env, { closeMs: 200 });
    expect(await slow.claim()).toBe(true);
    await tab('B', log, env, { silentHolderMs: 50 }).takeOver();
    log.push('B holds');
    expect(log).toEqual(['slow closes', 'slow closed', 'B holds']);

    const env2 = { locks: fakeLocks(), channels: fakeChannels() };
    const frozen: string[] = [];
    const asleep = tab('asleep', frozen, env2, { deaf: true });
    expect(await asleep.claim()).toBe(true);
    await tab('C', frozen, env2, { silentHolderMs: 50 }).takeOver();
    frozen.push('C holds');
    await tick(20);
    // Robbed (not asked): its rejected request makes it close, in whichever order with C's grant.
    expect([...frozen].sort()).toEqual(['C holds', 'asleep closed', 'asleep closes']);
    expect(asleep.held).toBe(false);
  });

  it('two claims at once in one tab both hold; a refused lock request answers (no guard) instead of hanging', async () => {
    const env = { locks: fakeLocks(), channels: fakeChannels() };
    const a = tab('A', [], env);
    expect(await Promise.all([a.claim(), a.claim()])).toEqual([true, true]);
    expect(await tab('B', [], env).claim()).toBe(false);

    const refusing = { request: () => Promise.reject(new DOMException('sandboxed', 'SecurityError')) } as unknown as LockManager;
    const sandboxed = new TabClaim({ locks: refusing, channel: fakeChannels(), letGo: async () => undefined });
    expect(await Promise.race([sandboxed.claim(), tick(500).then(() => 'hung')])).toBe(true);
    expect(sandboxed.held).toBe(true);
  });
});
