/** The one record-type table and the rules that read it agree. */
import { describe, expect, it } from 'vitest';
import { ENVELOPE_RECORD_TYPES, isCompactableType, RECORD_TYPE_RULES, RecordType, SEALED_TYPES, effectInSnapshot } from '../../src/lib/protocol/index.ts';

describe('record-type table', () => {
  it('covers every record type, and each derived set is read from it', () => {
    expect([...RECORD_TYPE_RULES.keys()].sort()).toEqual(Object.values(RecordType).sort());
    for (const [type, rule] of RECORD_TYPE_RULES) {
      expect(SEALED_TYPES.has(type)).toBe(rule.sealed);
      expect(ENVELOPE_RECORD_TYPES.has(type as never)).toBe(rule.inEnvelope);
      expect(isCompactableType(type)).toBe(rule.compactable);
      // A type a snapshot may delete must be one whose effect the snapshot carries.
      if (rule.compactable) expect(effectInSnapshot(type)).toBe(true);
    }
  });

  it('an unknown type is kept for ever and never applied', () => {
    expect(isCompactableType(99)).toBe(false);
    expect(effectInSnapshot(99)).toBe(false);
    expect(ENVELOPE_RECORD_TYPES.has(99 as never)).toBe(false);
  });
});
