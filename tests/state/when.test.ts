import { describe, expect, it } from 'vitest';
import { formatDay, formatWhen } from '../../src/lib/state/when.ts';

describe('formatWhen', () => {
  const at = Date.UTC(2026, 11, 9, 21, 20);
  it('always carries the date, not only the time', () => {
    expect(formatWhen(at, { locale: 'en-GB', timeZone: 'UTC' })).toBe('9 Dec 2026, 21:20');
    expect(formatDay(at, { locale: 'en-GB', timeZone: 'UTC' })).toBe('9 Dec 2026');
  });
  it('writes the moment in the reader\'s time zone', () => {
    expect(formatWhen(at, { locale: 'en-GB', timeZone: 'Asia/Tokyo' })).toBe('10 Dec 2026, 06:20');
  });
});
