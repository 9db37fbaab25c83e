/** Known-answer vectors for the record encodings (tests/vectors/record-v1.json, record-v2.json, record-v3.json). */
import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import v1 from '../vectors/record-v1.json' with { type: 'json' };
import v2 from '../vectors/record-v2.json' with { type: 'json' };
import v3 from '../vectors/record-v3.json' with { type: 'json' };
import { createWebCryptoEngine, fromHex, nobleEngine, nobleHashWithDomain, signingKeyPairFromSeed, toHex, tweetnaclEngine, type SymmetricKey } from '../../src/lib/crypto/index.ts';
import { openRecord, pad, parseRecord, recordKey, RecordType, RecordVersion, sealRecord, verifyRecord } from '../../src/lib/protocol/index.ts';

const formats = [
  { name: 'v1', version: RecordVersion.v1, vectors: v1.vectors as ReadonlyArray<(typeof v1.vectors)[number] & { key?: string }> },
  // v2: v1's layout with version byte 2, stored under a 22-character key (decision 0023)
  { name: 'v2', version: RecordVersion.v2, vectors: v2.vectors },
  // v3: shorter prev, no bodyLen, 16-byte nonce, per-header key (decision 0028)
  { name: 'v3', version: RecordVersion.v3, vectors: v3.vectors },
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

describe('record v3 read from its description alone (docs/protocol.md §2), with other libraries', () => {
  for (const v of v3.vectors) {
    it(`${v.name}: fields at their offsets, the key derived from the epoch key and the header hash, secretbox over pad(payload) with nonce ‖ 0^8, Ed25519 over domain ‖ header ‖ body`, () => {
      const bytes = fromHex(v.record);
      const header = bytes.subarray(0, 78); // 'FV' v type docId(16) epoch(4) author(32) seq(4) prev(16) extLen(2), ext empty
      expect([...header.subarray(0, 4)]).toEqual([0x46, 0x56, 3, RecordType.update]);
      expect(toHex(header.subarray(4, 20))).toBe(v.docId);
      expect(toHex(header.subarray(60, 76))).toBe(v.prev.slice(0, 32));
      expect([...header.subarray(76, 78)]).toEqual([0, 0]);
      const body = bytes.subarray(78, bytes.length - 64);
      const sig = bytes.subarray(bytes.length - 64);
      const headerHash = nobleHashWithDomain('fhv/header/v1', header);
      expect(toHex(headerHash)).toBe(v.headerHash);
      const key = nobleHashWithDomain('fhv/record-key/v3', fromHex(v.epochKey), headerHash);
      expect(toHex(key)).toBe(v.recordKey);
      expect(toHex(body.subarray(0, 16))).toBe(v.nonce);
      const nonce = new Uint8Array(24);
      nonce.set(body.subarray(0, 16));
      const plaintext = nacl.secretbox.open(body.subarray(16), nonce, key);
      expect(plaintext && toHex(plaintext)).toBe(toHex(pad(fromHex(v.payload))));
      const kp = signingKeyPairFromSeed(fromHex(v.signingSeed));
      const signed = new Uint8Array([...new TextEncoder().encode('fhv/record-sig/v1'), ...header, ...body]);
      expect(nacl.sign.detached.verify(signed, sig, kp.publicKey)).toBe(true);
      expect(toHex(nobleHashWithDomain('fhv/record-id/v1', header, body))).toBe(v.id);
    });
  }
});
