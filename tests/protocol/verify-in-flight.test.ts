/**
 * Signature checks started early (docs/decisions/0055): `startVerifying` and
 * `startVerifyingUpdate` start a record's check, and a `verifyRecord` of the same record while it
 * runs waits for that answer instead of asking the engine again. The claim is that this never
 * changes a verdict: every `verifyRecord` answers exactly what a fresh engine would for the
 * bytes it is given, whatever else is in flight (a forged copy of the same header and body, the
 * genuine one, a failure), and only a success is remembered.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createWebCryptoEngine, seededRandom, signingKeyPairFromSeed, generateSymmetricKey, type Ed25519Engine } from '../../src/lib/crypto/index.ts';
import { ENVELOPE_MAP, parseRecord, recordKey, RecordType, sealRecord, startVerifying, startVerifyingUpdate, verifyRecord, ZERO_HASH, type ParsedRecord } from '../../src/lib/protocol/index.ts';
import { withSeed } from '../helpers/prng.ts';

const FILE = 'tests/protocol/verify-in-flight.test.ts';
const rnd = seededRandom(11);
const alice = signingKeyPairFromSeed(new Uint8Array(32).fill(5));
const docId = new Uint8Array(16).fill(6);
const key = generateSymmetricKey(rnd);
/** Records are sealed on a device of their own (its engine remembers what it signs). */
const signingDevice = createWebCryptoEngine();

/** Counts the engine's checks, and answers each only when the test releases it (or at once). */
function gated(inner: Ed25519Engine): Ed25519Engine & { verifies: number; held: Array<() => void>; hold: boolean } {
  const engine = {
    name: inner.name,
    verifies: 0,
    held: [] as Array<() => void>,
    hold: false,
    sign: (m: Uint8Array, k: Parameters<Ed25519Engine['sign']>[1]) => inner.sign(m, k),
    async verify(m: Uint8Array, s: Uint8Array, p: Parameters<Ed25519Engine['verify']>[2]) {
      engine.verifies++;
      const answer = inner.verify(m, s, p);
      if (engine.hold) await new Promise<void>((r) => engine.held.push(r));
      return answer;
    },
  };
  return engine;
}

async function record(seq: number): Promise<Uint8Array> {
  const header = { type: RecordType.update, docId, epoch: 0, author: alice.publicKey, seq, prev: ZERO_HASH, ext: new Uint8Array(0) };
  return (await sealRecord({ header, payload: new Uint8Array([seq, 2, 3]), key, secretKey: alice.secretKey, engine: signingDevice, random: rnd })).bytes;
}

function parsed(bytes: Uint8Array): ParsedRecord {
  const r = parseRecord(bytes);
  if (!r.ok) throw new Error(r.code);
  return r.value;
}

/** The same header and body under another signature: well-formed (S stays below L), invalid. */
function forgedCopy(bytes: Uint8Array, bit: number): Uint8Array {
  const forged = bytes.slice();
  forged[forged.length - 64 + (bit % 32)]! ^= 1 << (bit % 8); // inside R
  return forged;
}

const releaseAll = async (engine: { held: Array<() => void> }) => {
  while (engine.held.length > 0) {
    for (const r of engine.held.splice(0)) r();
    await new Promise((r) => setTimeout(r, 0));
  }
};

describe('signature checks started early', () => {
  it('a check started early answers the later verifyRecord: one engine call', async () => {
    const engine = gated(createWebCryptoEngine());
    const bytes = await record(1);
    engine.hold = true;
    startVerifying(parsed(bytes), engine);
    const later = verifyRecord(parsed(bytes.slice()), engine);
    await releaseAll(engine);
    expect((await later).ok).toBe(true);
    expect(engine.verifies).toBe(1);
  });

  it('a forged signature in flight does not answer for the genuine record, nor the genuine for the forged', async () => {
    const engine = gated(createWebCryptoEngine());
    const bytes = await record(2);
    const forged = forgedCopy(bytes, 3);
    engine.hold = true;
    startVerifying(parsed(forged), engine);
    const genuine = verifyRecord(parsed(bytes), engine);
    const forgedAgain = verifyRecord(parsed(forged.slice()), engine);
    await releaseAll(engine);
    expect((await genuine).ok).toBe(true);
    const refused = await forgedAgain;
    expect(refused.ok || refused.code).toBe('RECORD_BAD_SIGNATURE');
    expect(engine.verifies).toBe(2); // the forged copy shared the first check; the genuine had its own
  });

  it('a failed early check is not remembered: the next check asks the engine again', async () => {
    const engine = gated(createWebCryptoEngine());
    const bytes = await record(3);
    const forged = forgedCopy(bytes, 9);
    startVerifying(parsed(forged), engine);
    await releaseAll(engine);
    await new Promise((r) => setTimeout(r, 0));
    const before = engine.verifies;
    expect((await verifyRecord(parsed(forged), engine)).ok).toBe(false);
    expect(engine.verifies).toBe(before + 1);
  });

  it('startVerifyingUpdate starts the checks of an update\'s records, and takes anything without throwing', async () => {
    const engine = gated(createWebCryptoEngine());
    const bytes = await record(4);
    const doc = new Y.Doc();
    doc.getMap<Uint8Array>(ENVELOPE_MAP).set(recordKey(parsed(bytes)), bytes);
    const update = Y.encodeStateAsUpdate(doc);
    engine.hold = true;
    startVerifyingUpdate(update, engine);
    expect(engine.verifies).toBe(1);
    const later = verifyRecord(parsed(bytes.slice()), engine);
    await releaseAll(engine);
    expect((await later).ok).toBe(true);
    expect(engine.verifies).toBe(1);
    for (const junk of [new Uint8Array(0), Uint8Array.of(1, 2, 3), update.subarray(0, update.length - 3), rnd(200)]) {
      expect(() => startVerifyingUpdate(junk, engine)).not.toThrow();
    }
  });

  it('seeded schedules: every verdict equals a fresh engine\'s, whatever is in flight', async () => {
    await withSeed(FILE, 'seeded schedules', async (prng) => {
      console.log(`seed ${prng.seed}; rerun: TEST_SEED=${prng.seed} npx vitest run ${FILE} -t "seeded schedules"`);
      const fresh = createWebCryptoEngine();
      for (let round = 0; round < 12; round++) {
        const engine = gated(createWebCryptoEngine());
        engine.hold = prng.bool(0.7);
        const genuine = await record(100 + round);
        const copies = [genuine, ...Array.from({ length: prng.int(1, 3) }, (_, i) => forgedCopy(genuine, prng.int(0, 255) + i))];
        const asked: Array<{ bytes: Uint8Array; verdict: Promise<boolean> }> = [];
        for (let step = 0; step < prng.int(2, 8); step++) {
          const bytes = prng.pick(copies).slice();
          if (prng.bool(0.4)) startVerifying(parsed(bytes), engine);
          else asked.push({ bytes, verdict: verifyRecord(parsed(bytes), engine).then((r) => r.ok) });
          if (prng.bool(0.3)) await releaseAll(engine);
        }
        await releaseAll(engine);
        for (const a of asked) {
          const expected = (await verifyRecord(parsed(a.bytes), fresh)).ok;
          expect(await a.verdict, `round ${round}`).toBe(expected);
        }
      }
    });
  });
});
