import { describe, expect, it } from 'vitest';
import { navFor } from '../../src/lib/state/sections.ts';

describe('profile navigation', () => {
  it('shows owners Sharing, and every other member the same page as People (who has access, leaving)', () => {
    expect(navFor(true).find((n) => n.path === '/share')?.label).toBe('Sharing');
    expect(navFor(false).find((n) => n.path === '/share')?.label).toBe('People');
    expect(navFor(false).map((n) => n.path)).toEqual(navFor(true).map((n) => n.path));
  });
});
