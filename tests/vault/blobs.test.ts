/**
 * Document files: sealing and opening (known answers, every flipped byte refused), and the whole
 * path through a real relay: an owner uploads, a viewer downloads; the record keeps only metadata.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { fromHex, generateBoxKeyPair, generateSigningKeyPair, seededRandom, toHex, utf8 } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { BLOB_OVERHEAD, MAX_FILE_BYTES, blobRef, downloadBlob, openBlob, sealBlob, uploadBlob } from '../../src/lib/vault/blobs.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const vectors = JSON.parse(readFileSync(new URL('../vectors/blob-v1.json', import.meta.url), 'utf8')) as {
  vectors: { name: string; key: string; nonce: string; file: string; ciphertext: string; id: string; hash: string; size: number }[];
};
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof VaultError ? e.code : 'not a VaultError';
  }
  return undefined;
}

describe('sealBlob / openBlob', () => {
  it.each(vectors.vectors)('matches the known answer: $name', (v) => {
    const draws = [fromHex(v.key), fromHex(v.nonce)];
    const sealed = sealBlob(fromHex(v.file), () => draws.shift()!);
    expect(toHex(sealed.ciphertext)).toBe(v.ciphertext);
    expect(sealed.id).toBe(v.id);
    expect(sealed.hash).toBe(v.hash);
    expect(sealed.size).toBe(v.size);
    // The same answers from independent implementations (node:crypto, tweetnacl directly).
    const box = nacl.secretbox(fromHex(v.file), fromHex(v.nonce), fromHex(v.key));
    expect(v.ciphertext).toBe(`01${v.nonce}${toHex(box)}`);
    expect(v.id).toBe(createHash('sha256').update(fromHex(v.ciphertext)).digest('base64url'));
    expect(v.hash).toBe(createHash('sha256').update(fromHex(v.file)).digest('base64'));
    expect(toHex(openBlob(fromHex(v.ciphertext), fromHex(v.key), v))).toBe(v.file);
  });

  it('round-trips, with a fresh key and nonce per file', () => {
    const file = utf8('CANARY-BLOB-ROUNDTRIP lab report');
    const a = sealBlob(file);
    const b = sealBlob(file);
    expect(a.ciphertext.length).toBe(file.length + BLOB_OVERHEAD);
    expect(toHex(a.key)).not.toBe(toHex(b.key));
    expect(a.id).not.toBe(b.id);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.ciphertext).includes(Buffer.from('CANARY'))).toBe(false);
    expect(openBlob(a.ciphertext, a.key, a)).toEqual(file);
  });

  it('refuses any flipped byte, a wrong key, a wrong hash and a truncated file (BLOB_TAMPERED)', () => {
    const rnd = seededRandom(0xb10b);
    const sealed = sealBlob(rnd(300), rnd);
    for (let i = 0; i < sealed.ciphertext.length; i++) {
      const bad = sealed.ciphertext.slice();
      bad[i]! ^= 1 << (i % 8);
      expect(codeOf(() => openBlob(bad, sealed.key, sealed)), `byte ${i}`).toBe('BLOB_TAMPERED');
      // Even when the reader is handed the tampered bytes' own id, the box or the hash refuses.
      expect(codeOf(() => openBlob(bad, sealed.key, { ...sealed, id: createHash('sha256').update(bad).digest('base64url') })), `byte ${i}`).toBe('BLOB_TAMPERED');
    }
    const otherKey = sealed.key.slice();
    otherKey[0]! ^= 1;
    expect(codeOf(() => openBlob(sealed.ciphertext, otherKey, sealed))).toBe('BLOB_TAMPERED');
    expect(codeOf(() => openBlob(sealed.ciphertext, sealed.key.subarray(0, 31), sealed))).toBe('BLOB_TAMPERED');
    expect(codeOf(() => openBlob(sealed.ciphertext, sealed.key, { ...sealed, hash: sealBlob(utf8('x')).hash }))).toBe('BLOB_TAMPERED');
    const short = sealed.ciphertext.subarray(0, 20);
    expect(codeOf(() => openBlob(short, sealed.key, { ...sealed, id: createHash('sha256').update(short).digest('base64url') }))).toBe('BLOB_TAMPERED');
  });

  it('errors never name the file', () => {
    const sealed = sealBlob(utf8('CANARY-NAME-IN-FILE'));
    try {
      openBlob(sealed.ciphertext, new Uint8Array(32), sealed);
    } catch (e) {
      expect((e as Error).message).not.toMatch(/CANARY/);
    }
  });
});

describe('uploadBlob / downloadBlob through the relay', () => {
  async function family() {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const [mum, son] = [device(), device()];
    const owner = await Profile.create({
      ...mum,
      relayUrl: relay.url,
      minReconnectDelayMs: 50,
      members: [{ publicKey: son.signer.publicKey, boxKey: son.box.publicKey, role: Role.viewer, expiresAt: 0 }],
    });
    cleanups.push(() => owner.close());
    await owner.flush();
    const viewer = await Profile.open({ ...son, access: owner.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => viewer.close());
    await viewer.status.when((s) => s.synced);
    return { relay, owner, viewer };
  }

  it('an owner attaches a file to a document; a viewer reads the record and downloads the same bytes', async () => {
    const { relay, owner, viewer } = await family();
    const file = utf8('CANARY-BLOB-7731 discharge letter, synthetic');
    const attachment = await uploadBlob(owner, file, { title: 'Discharge letter.pdf', contentType: 'application/pdf' });
    expect(attachment).toMatchObject({ title: 'Discharge letter.pdf', contentType: 'application/pdf', size: file.length });
    expect(attachment.url).toMatch(/^fhv-blob:[A-Za-z0-9_-]{43}$/);
    expect(blobRef(attachment)?.id).toBe(attachment.url.slice('fhv-blob:'.length));

    owner.records.put('documents', { id: 'doc1', schemaVersion: 1, resourceType: 'DocumentReference', status: 'current', content: [{ attachment }] });
    await owner.flush();
    await eventually(() => viewer.records.get('documents', 'doc1') !== undefined);
    const seen = viewer.records.get('documents', 'doc1')!.content[0]!.attachment;
    expect(seen).toMatchObject({ url: attachment.url, key: attachment.key, hash: attachment.hash });
    expect(await downloadBlob(viewer, seen)).toEqual(file);
    expect(await downloadBlob(owner, attachment)).toEqual(file);

    // What the relay holds: ciphertext only, neither the file's text nor its key or name.
    const stored = Buffer.concat([...(await relay.blobs.dumpAll()), ...relay.store.dumpAll()]);
    expect(stored.includes(Buffer.from('CANARY-BLOB-7731'))).toBe(false);
    expect(stored.includes(Buffer.from('Discharge letter.pdf'))).toBe(false);
    expect(stored.includes(Buffer.from(attachment.key))).toBe(false);
    expect(stored.includes(Buffer.from(blobRef(attachment)!.key))).toBe(false);
  });

  it('a viewer cannot upload; a file over the limit is refused before anything is sent', async () => {
    const { viewer, owner } = await family();
    await expect(uploadBlob(viewer, utf8('x'), { title: 'x', contentType: 'text/plain' })).rejects.toMatchObject({ code: 'RECORD_READ_ONLY' });
    await expect(uploadBlob(owner, new Uint8Array(MAX_FILE_BYTES + 1), { title: 'big', contentType: 'text/plain' })).rejects.toMatchObject({ code: 'BLOB_TOO_LARGE' });
  });

  it('a record whose hash does not match the stored file is BLOB_TAMPERED; an unknown file is BLOB_NOT_FOUND; no file is BLOB_NOT_ATTACHED', async () => {
    const { owner, viewer } = await family();
    const attachment = await uploadBlob(owner, utf8('first'), { title: 'a', contentType: 'text/plain' });
    await expect(downloadBlob(viewer, { ...attachment, hash: sealBlob(utf8('second')).hash })).rejects.toMatchObject({ code: 'BLOB_TAMPERED' });
    const missing = sealBlob(utf8('never uploaded'));
    await expect(downloadBlob(viewer, { ...attachment, url: `fhv-blob:${missing.id}` })).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(downloadBlob(viewer, { title: 'no file' } as never)).rejects.toMatchObject({ code: 'BLOB_NOT_ATTACHED' });
  });

  it('a relay is needed: no connection is a typed error', async () => {
    const offline = await Profile.create(device());
    cleanups.push(() => offline.close());
    await expect(uploadBlob(offline, utf8('x'), { title: 'x', contentType: 'text/plain' })).rejects.toMatchObject({ code: 'RELAY_NOT_CONFIGURED' });
  });
});
