/** Who is here, as people (issue 13 item 9): one per person, places in words. */
import { describe, expect, it } from 'vitest';
import { peopleHere, placeName } from '../../src/lib/state/presence-view.ts';
import { conflictView, fieldLabel, valueText } from '../../src/lib/state/conflicts.ts';
import { asSentence } from '../../src/lib/errors.ts';

const entry = (author: string, name: string, section: string, at: number) => ({ author, name, section, at, role: 2 as never });

describe('presence as people', () => {
  it('one entry per person across their devices and tabs, at their newest place, in words', () => {
    const personOf = (d: string) => ({ phone: 'ana', laptop: 'ana' })[d] ?? d;
    const people = peopleHere(
      [entry('phone', 'Ana', 'list:journal', 5), entry('laptop', 'Ana', 'medications', 9), entry('phone', 'Ana', 'overview', 1), entry('tom', 'Tom', '', 3)],
      personOf,
      () => 'someone',
    );
    expect(people).toEqual([
      { key: 'ana', name: 'Ana', place: 'Medications', devices: 2 },
      { key: 'tom', name: 'Tom', place: '', devices: 1 },
    ]);
    expect(placeName('list:journal')).not.toMatch(/list:|:/);
    expect(placeName('emergency')).toBe('Emergency card');
    expect(placeName('something-new')).toBe('Elsewhere in the profile');
  });
});

describe('conflict notices in words', () => {
  it('names the record, the field, both values and the other person', () => {
    const v = conflictView(
      { id: 1, section: 'allergies', record: 'pen', field: 'code', lost: 'mine', lostValue: { text: 'Penicillin G' }, keptValue: { text: 'Amoxicillin' }, other: 'k', at: 0 },
      { record: { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Amoxicillin' } }, nameOf: () => 'Tom' },
    );
    expect(v).toMatchObject({ lost: 'mine', lostText: 'Penicillin G', keptText: 'Amoxicillin', other: 'Tom', restoreLabel: 'Put my value back' });
    expect(v.what).toBe('the substance of the allergy “Amoxicillin”');
    expect(valueText([{ text: 'Rash' }, { text: 'Hives' }])).toBe('Rash, Hives');
    expect(valueText({ value: 7.1, unit: '%' })).toBe('7.1 %');
    expect(fieldLabel('allergies', 'someNewField')).toBe('Some new field');
  });
  it('messages shown to people are sentences', () => {
    expect(asSentence('this invite expired')).toBe('This invite expired.');
    expect(asSentence('Done.')).toBe('Done.');
    expect(asSentence('the relay refused this device (TOKEN_EXPIRED)')).toBe('The relay refused this device (TOKEN_EXPIRED).');
  });
});
