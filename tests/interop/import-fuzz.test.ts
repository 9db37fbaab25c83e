/**
 * Hostile and garbled FHIR, seeded (tests/helpers/prng.ts; TEST_SEED reruns a failure): a
 * Synthea-style bundle mutated at random paths (wrong types, deleted fields, absurd nesting,
 * prototype keys, broken and foreign references, other bundle types, truncated or flipped
 * bytes). Every import either returns a report whose rejections carry known codes, or throws a
 * typed error and leaves the profile exactly as it was; nothing of the content is echoed.
 * Counter-examples go to tests/fixtures/fhir/fuzz/ and are replayed first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { CodedError } from '../../src/lib/errors.ts';
import { planImport } from '../../src/lib/interop/fhir/import-plan.ts';
import { VaultErrors } from '../../src/lib/vault/errors.ts';
import { importFhir } from '../../src/lib/vault/fhir-import.ts';
import { SECTION_NAMES } from '../../src/lib/vault/health.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { syntheaBundle } from './synthea.ts';

const FILE = 'tests/interop/import-fuzz.test.ts';
const CANARY = 'CANARY-PHI-93c1';
const FIXTURES = new URL('../fixtures/fhir/fuzz/', import.meta.url).pathname;
const IMPORT_CODES = new Set(Object.keys(VaultErrors).filter((c) => c.startsWith('IMPORT_')));
const cleanups = cleanupList();

type Json = Record<string, unknown>;

function hostileValue(prng: Prng, depth = 0): unknown {
  switch (prng.int(0, 13)) {
    case 0:
      return null;
    case 1:
      return prng.pick([0, -1, 1e308, -1e-308, 2 ** 53 + 1, 0.1]);
    case 2:
      return `${CANARY}${'x'.repeat(prng.pick([0, 10, 5000]))}`;
    case 3:
      return '';
    case 4:
      return prng.bool();
    case 5:
      return depth < 3 ? [hostileValue(prng, depth + 1), hostileValue(prng, depth + 1)] : [];
    case 6:
      return depth < 3 ? { text: hostileValue(prng, depth + 1), coding: hostileValue(prng, depth + 1) } : {};
    case 7: {
      // Absurd nesting.
      let v: unknown = CANARY;
      for (let i = 0; i < prng.pick([100, 3000]); i++) v = prng.bool() ? [v] : { a: v };
      return v;
    }
    case 8:
      return JSON.parse(`{"__proto__": {"polluted": "${CANARY}"}, "constructor": {"prototype": {"x": 1}}}`) as unknown;
    case 9:
      return { reference: prng.pick([`urn:uuid:${CANARY}`, '#nope', 'Patient/elsewhere', 'http://x/Medication/1', '', `${CANARY}/1`]) };
    case 10:
      return prng.pick(['Patient', 'Bundle', 'MedicationOrder', 'lowercase', '9Type', CANARY]);
    case 11:
      return prng.pick(['2020-13-45', '2020-01-01T25:00:00Z', 'not a date', '1980']);
    case 12:
      return { value: prng.pick([70, '70']), unit: 'kg', system: prng.pick(['http://unitsofmeasure.org', CANARY]), code: prng.pick(['kg', 'stone']) };
    default:
      return undefined;
  }
}

/** Walks to a random place in the value and breaks it. */
function mutate(prng: Prng, root: Json): void {
  // Mostly inside one resource: breaking the Bundle's own three fields refuses the whole file.
  const entries = Array.isArray(root.entry) ? root.entry : [];
  let node: unknown = entries.length > 0 && prng.bool(0.9) ? prng.pick(entries) : root;
  for (let d = 0; d < prng.int(1, 6); d++) {
    const keys = Array.isArray(node) ? node.map((_, i) => i) : typeof node === 'object' && node !== null ? Object.keys(node) : [];
    if (keys.length === 0) break;
    const k = prng.pick(keys as (string | number)[]);
    const child = (node as Record<string | number, unknown>)[k];
    if (typeof child !== 'object' || child === null || prng.bool(0.25)) {
      const roll = prng.int(0, 3);
      const holder = node as Record<string | number, unknown>;
      if (roll === 0) delete holder[k];
      else if (roll === 1 && Array.isArray(node)) node.push(structuredClone(node[prng.int(0, node.length - 1)]));
      else holder[k] = hostileValue(prng);
      return;
    }
    node = child;
  }
}

function hostileInput(prng: Prng): string | Uint8Array {
  const bundle = syntheaBundle(prng.next, { encounters: prng.int(0, 2), type: prng.pick(['transaction', 'collection', 'batch', 'document', 'searchset'] as const) });
  for (let i = 0; i < prng.int(0, 12); i++) mutate(prng, bundle);
  if (prng.bool(0.05)) bundle.type = hostileValue(prng);
  let text = JSON.stringify(bundle);
  const garble = prng.int(0, 9);
  if (garble === 0) text = text.slice(0, prng.int(0, text.length));
  if (garble === 1) {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < 4; i++) bytes[prng.int(0, bytes.length - 1)] = prng.int(0, 255);
    return bytes;
  }
  return text;
}

const savedCases = (): string[] => {
  try {
    return readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => readFileSync(FIXTURES + f, 'utf8'));
  } catch {
    return [];
  }
};

function checkPlan(input: string | Uint8Array): void {
  let value: unknown;
  try {
    value = JSON.parse(typeof input === 'string' ? input : new TextDecoder().decode(input));
  } catch {
    return;
  }
  const r = planImport(value, { fileName: 'fuzz.json', now: () => 0 });
  if (!r.ok) {
    expect(IMPORT_CODES, r.code).toContain(r.code);
    return;
  }
  for (const x of r.value.rejected) expect(IMPORT_CODES, x.code).toContain(x.code);
}

describe('hostile FHIR imports', () => {
  it('the plan never throws: a refusal code or per-entry rejections with known codes', () =>
    withSeed(FILE, 'the plan never throws', async (prng) => {
      for (const saved of savedCases()) checkPlan(saved);
      for (let i = 0; i < 150; i++) checkPlan(hostileInput(prng));
    }));

  it('an import into a profile reports, or refuses typed and changes nothing', () =>
    withSeed(FILE, 'an import into a profile reports', async (prng) => {
      const p = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
      cleanups.push(() => p.close());
      const inputs = [...savedCases(), ...Array.from({ length: 40 }, () => hostileInput(prng))];
      let refused = 0;
      for (const input of inputs) {
        const before = JSON.stringify(p.toJSON());
        try {
          const report = await importFhir(p, input, { fileName: 'fuzz.json', force: prng.bool(0.7) });
          for (const x of report.rejected) expect(IMPORT_CODES).toContain(x.code);
          expect(JSON.stringify(report)).not.toContain(CANARY);
        } catch (e) {
          expect(e, String((e as Error)?.stack)).toBeInstanceOf(CodedError);
          expect((e as Error).message).not.toContain(CANARY);
          expect(JSON.stringify(p.toJSON())).toBe(before);
          refused++;
        }
        for (const s of SECTION_NAMES) expect(p.records.invalidCount(s), s).toBe(0);
      }
      expect(({} as Json).polluted).toBeUndefined();
      expect(refused).toBeGreaterThan(0);
    }));
});
