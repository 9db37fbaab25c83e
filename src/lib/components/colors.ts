/**
 * One colour per person, shared by presence chips and note carets so "the purple caret" and
 * "the purple chip" are the same person on every screen. Derived from the public device key
 * (hex), not the display name: names are free text and two people may share one.
 */

/**
 * Six hues that stay ≥ 4.5:1 against white (tests/components/colors.test.ts computes it), so
 * white initials on a chip and coloured caret labels both pass WCAG AA. No red: red means
 * "sync error" in this app.
 */
export const PALETTE = ['#1d4ed8', '#7e22ce', '#be185d', '#b45309', '#15803d', '#0e7490'] as const;

/** FNV-1a: every character counts, so keys that share a prefix still spread. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The palette colour for an author key (case-insensitive: hex may arrive in either case). */
export function colorFor(key: string): string {
  return PALETTE[hash(key.toLowerCase()) % PALETTE.length]!;
}

/** Up to two initials for an avatar ("Dr. Ana Lee" → "AL"); "?" when the name has none. */
export function initials(name: string): string {
  const words = name
    .split(/\s+/)
    .filter((w) => w && !/^(dr|mr|mrs|ms|prof)\.?$/i.test(w))
    .map((w) => [...w.replace(/^[^\p{L}\p{N}]+/u, '')][0] ?? '')
    .filter(Boolean);
  const picked = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return picked.join('').toUpperCase() || '?';
}
