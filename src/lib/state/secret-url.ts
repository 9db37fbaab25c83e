/**
 * Secrets that arrive in the address (invite links, device links, SMART Health Links) leave the
 * address bar and the tab's history entry as soon as the page has read them (docs/decisions/0042):
 * the link is kept in memory only, and the entry is replaced by a neutral address, so a reload,
 * Back, a restored session or someone glancing at the screen finds no secret.
 *
 * The browser's native `history.replaceState`, not SvelteKit's: SvelteKit's shallow
 * `replaceState` writes the current page URL (the secret) into `history.state`, which the browser
 * saves with the entry. The router's own keys in the state are kept, minus that copy. A reload
 * of the neutral address shows that screen (the family list, the empty viewer): the secret is
 * gone from this tab, and the link can be opened again from where it came from.
 *
 * What this cannot do: Chromium records the address as first opened in its History database
 * before any script runs, and no page can delete that row. Those copies are spent secrets:
 * invites and device links are single-use and expire (tests/e2e/privacy-scan.test.ts proves
 * both for the copies it finds).
 */
import { onMount } from 'svelte';

/** SvelteKit's copy of the page URL in `history.state` (client.js PAGE_URL_KEY). */
const ROUTER_PAGE_URL_KEY = 'sveltekit:pageurl';

/** Replaces the current entry's address by `neutral`, dropping any copy of the old address from its state. */
export function forgetSecretAddress(neutral: string, h: Pick<History, 'state' | 'replaceState'> = history): void {
  const state: unknown = h.state;
  const kept = state && typeof state === 'object' ? Object.fromEntries(Object.entries(state).filter(([k]) => k !== ROUTER_PAGE_URL_KEY)) : null;
  h.replaceState(kept, '', neutral);
}

/**
 * For a route's script: returns `link` (read now, kept in the component's memory) and takes the
 * secret out of the address once the page is mounted (the router has finished writing its own
 * history entry by then). One line per route: `const link = readSecretLink(\`…\`);`.
 */
export function readSecretLink(link: string, neutral = '#/'): string {
  onMount(() => forgetSecretAddress(neutral));
  return link;
}

/** The SMART Health Link viewer's fragment (`shlink:/…`, its key inside), taken out of the address as it is read. */
export function takeShlFragment(l: Pick<Location, 'hash'> = location, h: Pick<History, 'state' | 'replaceState'> = history): string {
  const fragment = l.hash.slice(1);
  if (fragment) forgetSecretAddress(SHL_VIEWER_NEUTRAL, h);
  return fragment;
}

/** Where the viewer stays once its link is read (server/static.ts SHL_VIEWER_PATH; a reload shows the empty viewer). */
const SHL_VIEWER_NEUTRAL = '/shl';
