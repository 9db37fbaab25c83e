/**
 * Person colours: the same key always gets the same colour (on every device, so "purple" means
 * the same person for everyone), real keys spread over the whole palette, and every colour is
 * readable against white (WCAG 2 relative luminance, computed here rather than trusted).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PALETTE, colorFor, initials } from '../../src/lib/components/colors.ts';

/** A realistic author key: 32 bytes as lowercase hex, like an Ed25519 public key. */
const key = (i: number) => createHash('sha256').update(`device ${i}`).digest('hex');

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}
const contrastWithWhite = (hex: string) => 1.05 / (luminance(hex) + 0.05);

describe('colorFor', () => {
  it('is deterministic and always a palette colour', () => {
    for (let i = 0; i < 50; i++) {
      expect(colorFor(key(i))).toBe(colorFor(key(i)));
      expect(PALETTE).toContain(colorFor(key(i)));
    }
    expect(colorFor('')).toBe(colorFor(''));
  });

  it('ignores the case of the hex key', () => {
    expect(colorFor(key(1).toUpperCase())).toBe(colorFor(key(1)));
  });

  it('spreads keys evenly across the palette', () => {
    const n = 6000;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) counts.set(colorFor(key(i)), (counts.get(colorFor(key(i))) ?? 0) + 1);
    expect(counts.size).toBe(PALETTE.length);
    const expected = n / PALETTE.length;
    for (const c of counts.values()) expect(Math.abs(c - expected)).toBeLessThan(expected * 0.15);
  });

  it('keys that differ only in the last character still spread', () => {
    const base = key(7).slice(0, -1);
    const colors = new Set([...'0123456789abcdef'].map((ch) => colorFor(base + ch)));
    expect(colors.size).toBeGreaterThanOrEqual(4);
  });

  it('has distinct colours, each at least 4.5:1 against white', () => {
    expect(new Set(PALETTE).size).toBe(PALETTE.length);
    for (const c of PALETTE) {
      expect(c).toMatch(/^#[0-9a-f]{6}$/);
      expect(contrastWithWhite(c), c).toBeGreaterThanOrEqual(4.5);
    }
  });

  it('computes contrast the WCAG way (black on white is 21:1)', () => {
    expect(contrastWithWhite('#000000')).toBeCloseTo(21, 5);
    expect(contrastWithWhite('#ffffff')).toBeCloseTo(1, 5);
  });
});

describe('initials', () => {
  it('takes first and last initials, skipping titles', () => {
    expect(initials('Ana')).toBe('A');
    expect(initials('ana maria lopez')).toBe('AL');
    expect(initials('Dr. Lee')).toBe('L');
    expect(initials('  Dr  Ana   Lee ')).toBe('AL');
  });

  it('handles non-Latin and odd names', () => {
    expect(initials('Łukasz Żak')).toBe('ŁŻ');
    expect(initials('"Bo"')).toBe('B');
    expect(initials('')).toBe('?');
    expect(initials('---')).toBe('?');
    expect(initials('😀 Sam')).toBe('S');
  });
});
