/** Known-answer vectors for the record encodings (tests/vectors/record-v1.json, record-v2.json). */
import { describe, expect, it } from 'vitest';
import v1 from '../vectors/record-v1.json' with { type: 'json' };
import v2 from '../vectors/record-v2.json' with { type: 'json' };
import { createWebCryptoEngine, fromHex, nobleEngine, signingKeyPairFromSeed, toHex, tweetnaclEngine, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import { openRecord, parseRecord, recordKey, RecordType, RecordVersion, sealRecord, verifyRecord } from '../../src/lib/protocol/index.ts';

const formats = [
  { name: 'v1', version: RecordVersion.v1, vectors: v1.vectors as ReadonlyArray<(typeof v1.vectors)[number] & { key?: string }> },
  // v2: v1's layout with version byte 2, stored under a 22-character key (decision 0023)
  { name: 'v2', version: RecordVersion.v2, vectors: v2.vectors },
];

for (const format of formats) describe(`record ${format.name} known answers`, () => {
  for (const v of format.vectors) {
    for (const engine of [tweetnaclEngine, nobleEngine, createWebCryptoEngine()]) {
      it(`${v.name} with ${engine.name}: sealing gives the stored bytes, opening gives the payload`, async () => {
        const kp = signingKeyPairFromSeed(fromHex(v.signingSeed));
        const sealed = await sealRecord({
          header: { type: RecordType.update, docId: fromHex(v.docId), epoch: v.epoch, author: kp.publicKey, seq: v.seq, prev: fromHex(v.prev), ext: new Uint8Array(0) },
          payload: fromHex(v.payload),
          key: fromHex(v.epochKey) as SymmetricKey,
          secretKey: kp.secretKey,
          engine,
          random: () => fromHex(v.nonce),
          version: format.version,
        });
        expect(toHex(sealed.bytes)).toBe(v.record);
        expect(toHex(sealed.id)).toBe(v.id);
        const parsed = parseRecord(fromHex(v.record));
        if (!parsed.ok) throw new Error(parsed.code);
        expect(parsed.value.header.seq).toBe(v.seq);
        if (v.key !== undefined) expect(recordKey(parsed.value)).toBe(v.key);
        const verified = await verifyRecord(parsed.value, engine);
        if (!verified.ok) throw new Error(verified.code);
        const opened = openRecord(verified.value, fromHex(v.epochKey) as SymmetricKey);
        expect(opened.ok && toHex(opened.value.payload)).toBe(v.payload);
      });
    }
  }
});
