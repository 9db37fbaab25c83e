/**
 * Attacking the erased route's budgets (server/erase.ts) by varying addresses:
 *   - seeded IPv6 addresses in every textual form: one /64 is one budget whatever the interface
 *     id, spelling, case or zone (a client rotating through its /64 got a fresh budget per
 *     request before), different /64s are different budgets, and an IPv4-mapped address is the
 *     IPv4 address's budget (checked against node's BlockList as an independent oracle);
 *   - on a real relay listening dual-stack (`::`, as in containers), IPv4 clients from rotating
 *     loopback addresses are budgeted per address (not all as one mapped /64), and however many
 *     addresses they use, the route answers at most the relay-wide burst before 429 (threat
 *     model 99).
 * Seeded: TEST_SEED=<n> npx vitest run tests/server/attack-budgets.test.ts
 */
import { request } from 'node:http';
import { BlockList } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { addressBudgetName } from '../../server/budgets.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const FILE = 'tests/server/attack-budgets.test.ts';
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

/** One IPv6 address (eight groups) spelled as a client or a stack might: full, zero-compressed, upper case, with a zone. */
function spell(prng: Prng, groups: readonly number[]): string {
  let parts = groups.map((g) => (prng.bool(0.2) ? g.toString(16).padStart(4, '0') : g.toString(16)));
  let text = parts.join(':');
  const zeros = [...text.matchAll(/(^|:)(0(:0)+)(:|$)/g)];
  if (zeros.length > 0 && prng.bool(0.7)) {
    parts = groups.map((g) => g.toString(16));
    const runs = [...parts.join(':').matchAll(/(?:^|:)0(?::0)+(?::|$)/g)];
    const run = prng.pick(runs);
    const joined = parts.join(':');
    text = `${joined.slice(0, run.index)}::${joined.slice(run.index! + run[0].length)}`;
  }
  if (prng.bool(0.3)) text = text.toUpperCase();
  if (prng.bool(0.1)) text += '%eth0';
  return text;
}

const randomGroups = (prng: Prng, prefix?: readonly number[]) => [...(prefix ?? Array.from({ length: 4 }, () => (prng.bool(0.3) ? 0 : prng.int(0, 0xffff)))), ...Array.from({ length: 4 }, () => (prng.bool(0.3) ? 0 : prng.int(0, 0xffff)))];

describe('per-address budget names', () => {
  it('one /64 is one budget in any spelling; different /64s differ; IPv4-mapped is the IPv4 address', async () => {
    await withSeed(FILE, 'one /64 is one budget', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "one /64 is one budget"`);
      for (let i = 0; i < 500; i++) {
        const prefix = randomGroups(prng).slice(0, 4);
        if (prefix.every((g) => g === 0)) continue; // ::/64 holds the IPv4-mapped range, checked below
        const a = randomGroups(prng, prefix);
        const b = randomGroups(prng, prefix);
        const [sa, sb] = [spell(prng, a), spell(prng, b)];
        const oracle = new BlockList();
        oracle.addSubnet(spell(prng, [...prefix, 0, 0, 0, 0]).replace(/%.*$/, ''), 64, 'ipv6');
        expect(oracle.check(sb.replace(/%.*$/, ''), 'ipv6'), `${sa} / ${sb} spelled validly`).toBe(true);
        expect(addressBudgetName(sa), `${sa} vs ${sb}`).toBe(addressBudgetName(sb));
        const other = randomGroups(prng);
        if (other.slice(0, 4).join() !== prefix.join()) expect(addressBudgetName(spell(prng, other)), `${sa} vs other /64`).not.toBe(addressBudgetName(sa));
        const v4 = Array.from({ length: 4 }, () => prng.int(0, 255));
        const dotted = v4.join('.');
        const hex = `${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
        for (const mapped of [`::ffff:${dotted}`, `::FFFF:${hex}`, `0:0:0:0:0:ffff:${dotted}`, `0000:0000:0000:0000:0000:ffff:${hex}`]) expect(addressBudgetName(mapped), mapped).toBe(dotted);
        expect(addressBudgetName(dotted)).toBe(dotted);
      }
      expect(addressBudgetName(undefined)).toBe('unknown');
      expect(addressBudgetName('::1')).not.toBe(addressBudgetName('::ffff:127.0.0.1'));
    });
  });
});

function erasedFrom(relay: TestRelay, localAddress: string): Promise<number> {
  const port = Number(/:(\d+)\/?$/.exec(relay.httpUrl)![1]);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/erased/AAAAAAAAAAAAAAAAAAAAAA', localAddress, timeout: 10_000, headers: { authorization: 'Bearer not-a-token' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('the erased route on a dual-stack relay', () => {
  it('budgets IPv4 clients per address, and rotating addresses never passes the relay-wide burst', { timeout: 60_000 }, async () => {
    const now = Date.UTC(2026, 11, 2, 12); // frozen: no bucket refills during the test
    const relay = await testRelay({ host: '::', now: () => now }, { erasedRouteLimits: { perAddressBurst: 2, perAddressPerSecond: 0.001, globalBurst: 9, globalPerSecond: 0.001 } });
    cleanup.push(() => relay.destroy());
    // One address: its burst, then 429.
    const one = [];
    for (let i = 0; i < 4; i++) one.push(await erasedFrom(relay, '127.0.0.2'));
    expect(one.slice(0, 2).every((s) => s !== 429), one.join()).toBe(true);
    expect(one.slice(2)).toEqual([429, 429]);
    // Another IPv4 address is another budget (not one ::ffff: /64 for every IPv4 client).
    expect(await erasedFrom(relay, '127.0.0.3')).not.toBe(429);
    // Rotating through 40 addresses: never more answers than the relay-wide burst (9, 3 spent above).
    let answered = 0;
    for (let i = 10; i < 50; i++) if ((await erasedFrom(relay, `127.0.0.${i}`)) !== 429) answered++;
    expect(answered).toBe(9 - 3);
  });
});
