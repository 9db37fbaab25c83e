/** Known-answer vector for the v1 record encoding (tests/vectors/record-v1.json). */
import { describe, expect, it } from 'vitest';
import vectors from '../vectors/record-v1.json' with { type: 'json' };
import { createWebCryptoEngine, fromHex, nobleEngine, signingKeyPairFromSeed, toHex, tweetnaclEngine, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import { openRecord, parseRecord, RecordType, RecordVersion, sealRecord, verifyRecord } from '../../src/lib/protocol/index.ts';

describe('record v1 known answers', () => {
  for (const v of vectors.vectors) {
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
          version: RecordVersion.v1, // the vectors are format v1 (devices now write v2: same layout, shorter map key)
        });
        expect(toHex(sealed.bytes)).toBe(v.record);
        expect(toHex(sealed.id)).toBe(v.id);
        const parsed = parseRecord(fromHex(v.record));
        if (!parsed.ok) throw new Error(parsed.code);
        expect(parsed.value.header.seq).toBe(v.seq);
        const verified = await verifyRecord(parsed.value, engine);
        if (!verified.ok) throw new Error(verified.code);
        const opened = openRecord(verified.value, fromHex(v.epochKey) as SymmetricKey);
        expect(opened.ok && toHex(opened.value.payload)).toBe(v.payload);
      });
    }
  }
});
