/**
 * Secrets leave the address bar and the history entry (src/lib/state/secret-url.ts, decision
 * 0042): the entry's address becomes the neutral one and no copy of the old address stays in
 * the entry's state (SvelteKit's shallow replaceState would keep one under `sveltekit:pageurl`).
 * The browser's behaviour is proven in tests/e2e/privacy-scan.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { forgetSecretAddress, takeShlFragment } from '../../src/lib/state/secret-url.ts';

function fakeHistory(state: unknown) {
  const calls: { state: unknown; url: string }[] = [];
  return {
    calls,
    h: {
      state,
      replaceState(s: unknown, _unused: string, url?: string | URL | null) {
        calls.push({ state: s, url: String(url) });
        this.state = s;
      },
    },
  };
}

const SECRET = 'https://vault.example/#/join/SECRET-TOKEN-123';

describe('forgetSecretAddress', () => {
  it('replaces the entry by the neutral address and keeps the router keys but not its copy of the secret address', () => {
    const { h, calls } = fakeHistory({ 'sveltekit:history': 3, 'sveltekit:navigation': 7, 'sveltekit:pageurl': SECRET, 'sveltekit:states': {} });
    forgetSecretAddress('#/', h);
    expect(calls).toEqual([{ state: { 'sveltekit:history': 3, 'sveltekit:navigation': 7, 'sveltekit:states': {} }, url: '#/' }]);
    expect(JSON.stringify(h.state)).not.toContain('SECRET-TOKEN');
  });

  it('works on an entry with no state', () => {
    const { h, calls } = fakeHistory(null);
    forgetSecretAddress('#/', h);
    expect(calls).toEqual([{ state: null, url: '#/' }]);
  });
});

describe('takeShlFragment', () => {
  it('returns the link and leaves /shl with no fragment', () => {
    const { h, calls } = fakeHistory({ 'sveltekit:pageurl': 'https://x/shl#shlink:/KEY' });
    expect(takeShlFragment({ hash: '#shlink:/KEY' }, h)).toBe('shlink:/KEY');
    expect(calls).toEqual([{ state: {}, url: '/shl' }]);
  });

  it('touches nothing when there is no fragment (a reload of the neutral address)', () => {
    const { h, calls } = fakeHistory(null);
    expect(takeShlFragment({ hash: '' }, h)).toBe('');
    expect(calls).toEqual([]);
  });
});
