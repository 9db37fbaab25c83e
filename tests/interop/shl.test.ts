/**
 * SMART Health Links, device side (src/lib/interop/shl, docs/decisions/0031): the STU1 payload
 * rules, a known-answer link from fixed randomness (the JWE checked with node:crypto, not jose),
 * JWE round trip and tamper, and opening a link against a scripted manifest server.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fromBase64Url, toBase64Url } from '../../src/lib/crypto/bytes.ts';
import { ShlError, type ShlErrorCode } from '../../src/lib/interop/shl/errors.ts';
import { decryptJwe, encryptJwe } from '../../src/lib/interop/shl/jwe.ts';
import { FHIR_JSON, makeLink } from '../../src/lib/interop/shl/link.ts';
import { openShl } from '../../src/lib/interop/shl/open.ts';
import { decodeShlink, encodeShlink, isExpired, viewerLink, type ShlPayload } from '../../src/lib/interop/shl/payload.ts';

/** Bytes 0,1,2,… continuing across calls: reproducible "randomness". */
function counter(start = 0) {
  let next = start;
  return (n: number) => Uint8Array.from({ length: n }, () => next++ & 0xff);
}

const KEY = toBase64Url(new Uint8Array(32).fill(7));
const base: ShlPayload = { url: 'https://relay.example/shl/' + 'A'.repeat(43), key: KEY };
const b64json = (o: unknown) => 'shlink:/' + Buffer.from(JSON.stringify(o)).toString('base64url');

async function code(p: Promise<unknown> | (() => unknown)): Promise<ShlErrorCode | 'none'> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'none';
  } catch (e) {
    if (e instanceof ShlError) return e.code;
    throw e;
  }
}

describe('shlink:/ payload (STU1 rules)', () => {
  it('round-trips through the bare and the viewer-prefixed form', () => {
    const p: ShlPayload = { ...base, exp: 1_900_000_000, flag: 'LP', label: 'Emergency summary', v: 1 };
    expect(decodeShlink(encodeShlink(p))).toEqual(p);
    const v = viewerLink('https://viewer.example/shl', p);
    expect(v.startsWith('https://viewer.example/shl#shlink:/')).toBe(true);
    expect(decodeShlink(v)).toEqual(p);
  });

  it('ignores members the spec does not define', () => {
    expect(decodeShlink(b64json({ ...base, future: 'x' }))).toEqual(base);
  });

  const cases: Array<[string, unknown]> = [
    ['key of 42 characters', { ...base, key: KEY.slice(1) }],
    ['key not base64url', { ...base, key: '+'.repeat(43) }],
    ['key non-canonical tail', { ...base, key: KEY.slice(0, 42) + 'B' }],
    ['url over 128 characters', { ...base, url: 'https://relay.example/' + 'a'.repeat(107) }],
    ['url plain http to a remote host', { ...base, url: 'http://relay.example/shl/x' }],
    ['url with a fragment', { ...base, url: 'https://relay.example/shl/x#y' }],
    ['url missing', { key: KEY }],
    ['unknown flag', { ...base, flag: 'X' }],
    ['flags out of order', { ...base, flag: 'PL' }],
    ['flag repeated', { ...base, flag: 'PP' }],
    ['flags U and P', { ...base, flag: 'PU' }],
    ['label over 80 characters', { ...base, label: 'x'.repeat(81) }],
    ['exp not a number', { ...base, exp: '1900000000' }],
    ['exp negative', { ...base, exp: -1 }],
    ['version 2', { ...base, v: 2 }],
    ['an array', [base]],
  ];
  it.each(cases)('refuses %s with SHL_MALFORMED', async (_, payload) => {
    expect(await code(() => decodeShlink(b64json(payload)))).toBe('SHL_MALFORMED');
  });

  it('refuses text that is not a shlink, and base64 that is not JSON', async () => {
    for (const t of ['https://viewer.example/#nothing', 'shlink:/', 'shlink:/%%%', 'shlink:/' + Buffer.from('not json').toString('base64url')]) {
      expect(await code(() => decodeShlink(t)), t).toBe('SHL_MALFORMED');
    }
  });

  it('a label of exactly 80 characters and an http loopback url are accepted', () => {
    expect(decodeShlink(b64json({ ...base, label: 'é'.repeat(80) })).label).toHaveLength(80);
    expect(decodeShlink(b64json({ ...base, url: 'http://127.0.0.1:8787/shl/x' })).url).toBe('http://127.0.0.1:8787/shl/x');
  });

  it('exp is seconds: expired at and after it', () => {
    expect(isExpired({ ...base, exp: 100 }, 99_999)).toBe(false);
    expect(isExpired({ ...base, exp: 100 }, 100_000)).toBe(true);
    expect(isExpired(base, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});

describe('makeLink (fixed randomness)', () => {
  const content = { resourceType: 'Bundle', type: 'document', entry: [] };
  const make = () =>
    makeLink({ content, manifestBase: 'https://relay.example/shl/', random: counter(), now: 1_800_000_000_000, expiresInMs: 7 * 86_400_000, passcode: true, label: 'For Dr. Lee' });

  it('is a known answer: key, manifest id, IV from the random source, in that order', async () => {
    const made = await make();
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const id = Uint8Array.from({ length: 32 }, (_, i) => 32 + i);
    expect(made.payload).toEqual({
      url: `https://relay.example/shl/${toBase64Url(id)}`,
      key: toBase64Url(key),
      exp: 1_800_000_000 + 7 * 86_400,
      flag: 'P',
      label: 'For Dr. Lee',
      v: 1,
    });
    expect(made.manifestId).toHaveLength(43);
    expect(made.payload.url.length).toBeLessThanOrEqual(128);
    expect(made.link).toBe(encodeShlink(made.payload));
    expect((await make()).jwe).toBe(made.jwe); // deterministic given the randomness

    // Independent check with node:crypto: header, IV and AES-256-GCM over the header's ASCII.
    const [h, ek, iv, ct, tag] = made.jwe.split('.') as [string, string, string, string, string];
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'dir', enc: 'A256GCM', cty: FHIR_JSON });
    expect(ek).toBe('');
    expect(Buffer.from(iv, 'base64url')).toEqual(Buffer.from(Uint8Array.from({ length: 12 }, (_, i) => 64 + i)));
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    d.setAAD(Buffer.from(h, 'ascii'));
    d.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]);
    expect(JSON.parse(plain.toString())).toEqual(content);
  });

  it('refuses a relay address that would make the manifest URL longer than 128 characters', async () => {
    const long = 'https://relay.example/' + 'p'.repeat(128 - 43 - 1 - 22 + 1);
    expect(await code(makeLink({ content, manifestBase: long, random: counter(), now: 0 }))).toBe('SHL_MALFORMED');
    expect((await makeLink({ content, manifestBase: long.slice(0, -1), random: counter(), now: 0 })).payload.url).toHaveLength(128);
  });

  it('refuses a label over 80 characters and a lifetime that is not in the future', async () => {
    expect(await code(makeLink({ content, manifestBase: 'https://r.example/shl', random: counter(), now: 0, label: 'x'.repeat(81) }))).toBe('SHL_MALFORMED');
    expect(await code(makeLink({ content, manifestBase: 'https://r.example/shl', random: counter(), now: 0, expiresInMs: 0 }))).toBe('SHL_MALFORMED');
  });

  it('different randomness gives a different key and manifest id', async () => {
    const a = await makeLink({ content, manifestBase: 'https://r.example/shl', random: counter(0), now: 0 });
    const b = await makeLink({ content, manifestBase: 'https://r.example/shl', random: counter(1), now: 0 });
    expect(a.payload.key).not.toBe(b.payload.key);
    expect(a.manifestId).not.toBe(b.manifestId);
  });
});

describe('JWE (dir, A256GCM)', () => {
  const key = new Uint8Array(32).fill(3);
  const iv = new Uint8Array(12).fill(9);
  const text = new TextEncoder().encode('{"resourceType":"Patient"}');

  it('round-trips and names its content type', async () => {
    const jwe = await encryptJwe(text, key, { iv, contentType: FHIR_JSON });
    const out = await decryptJwe(jwe, key);
    expect(new TextDecoder().decode(out.plaintext)).toBe('{"resourceType":"Patient"}');
    expect(out.contentType).toBe(FHIR_JSON);
  });

  it('refuses a wrong key, any flipped part, and another algorithm', async () => {
    const jwe = await encryptJwe(text, key, { iv });
    expect(await code(decryptJwe(jwe, new Uint8Array(32).fill(4)))).toBe('SHL_DECRYPT_FAILED');
    const parts = jwe.split('.');
    for (const i of [0, 2, 3, 4]) {
      const p = [...parts];
      const bytes = fromBase64Url(p[i]!);
      bytes[0]! ^= 1;
      p[i] = toBase64Url(bytes);
      expect(await code(decryptJwe(p.join('.'), key)), `part ${i}`).toBe('SHL_DECRYPT_FAILED');
    }
    const a128 = toBase64Url(new TextEncoder().encode('{"alg":"dir","enc":"A128GCM"}'));
    expect(await code(decryptJwe([a128, ...parts.slice(1)].join('.'), key))).toBe('SHL_DECRYPT_FAILED');
    expect(await code(decryptJwe('a.b.c', key))).toBe('SHL_DECRYPT_FAILED');
  });

  it('opens a zip:"DEF" file another sender made (raw DEFLATE before encryption)', async () => {
    const header = toBase64Url(new TextEncoder().encode(JSON.stringify({ alg: 'dir', enc: 'A256GCM', zip: 'DEF', cty: FHIR_JSON })));
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from(header, 'ascii'));
    const ct = Buffer.concat([c.update(deflateRawSync(Buffer.from(text))), c.final()]);
    const jwe = [header, '', toBase64Url(iv), toBase64Url(ct), toBase64Url(c.getAuthTag())].join('.');
    expect(new TextDecoder().decode((await decryptJwe(jwe, key)).plaintext)).toBe('{"resourceType":"Patient"}');
  });
});

describe('openShl against a scripted manifest server', () => {
  const bundle = { resourceType: 'Bundle', type: 'document', entry: [] };
  async function setup(o: { passcode?: boolean; exp?: number } = {}) {
    const made = await makeLink({ content: bundle, manifestBase: 'https://relay.example/shl', random: counter(5), now: 0, passcode: o.passcode });
    const seen: Array<{ url: string; body: unknown }> = [];
    let answer: (body: Record<string, unknown>) => Response = () => Response.json({ files: [{ contentType: FHIR_JSON, embedded: made.jwe }] });
    const fetch = (async (url: string, init: RequestInit) => {
      const body = init.body ? JSON.parse(String(init.body)) : undefined;
      seen.push({ url, body });
      if (url.startsWith('https://files.example/')) return new Response(made.jwe);
      return answer(body);
    }) as typeof globalThis.fetch;
    return { made, seen, fetch, set: (a: typeof answer) => (answer = a) };
  }

  it('posts recipient, passcode and embeddedLengthMax to the manifest url and decrypts the file', async () => {
    const s = await setup({ passcode: true });
    const files = await openShl(s.made.payload, { recipient: 'Dr. Lee', passcode: '1234', now: 0, fetch: s.fetch });
    expect(files).toEqual([{ contentType: FHIR_JSON, json: bundle }]);
    expect(s.seen).toEqual([{ url: s.made.payload.url, body: { recipient: 'Dr. Lee', passcode: '1234', embeddedLengthMax: 1024 * 1024 } }]);
  });

  it('follows a location instead of an embedded file', async () => {
    const s = await setup();
    s.set(() => Response.json({ files: [{ contentType: FHIR_JSON, location: 'https://files.example/1' }] }));
    expect(await openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch })).toEqual([{ contentType: FHIR_JSON, json: bundle }]);
    s.set(() => Response.json({ files: [{ contentType: FHIR_JSON, location: 'http://files.example/1' }] }));
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_FETCH_FAILED');
  });

  it('maps 401 to SHL_PASSCODE_WRONG with the attempts left, 404 to SHL_NOT_FOUND', async () => {
    const s = await setup({ passcode: true });
    s.set(() => Response.json({ remainingAttempts: 4 }, { status: 401 }));
    const e = await openShl(s.made.payload, { recipient: 'r', passcode: 'x', now: 0, fetch: s.fetch }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShlError);
    expect([(e as ShlError).code, (e as ShlError).remainingAttempts]).toEqual(['SHL_PASSCODE_WRONG', 4]);
    s.set(() => new Response('SHL_UNKNOWN', { status: 404 }));
    expect(await code(openShl(s.made.payload, { recipient: 'r', passcode: 'x', now: 0, fetch: s.fetch }))).toBe('SHL_NOT_FOUND');
  });

  it('asks for a passcode before any request when flag P is set, and refuses an expired link offline', async () => {
    const s = await setup({ passcode: true });
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_PASSCODE_REQUIRED');
    expect(await code(openShl({ ...s.made.payload, exp: 10 }, { recipient: 'r', passcode: 'p', now: 10_000, fetch: s.fetch }))).toBe('SHL_EXPIRED');
    expect(s.seen).toEqual([]);
  });

  it('refuses content types it does not show, a wrong key, and a non-FHIR plaintext', async () => {
    const s = await setup();
    s.set(() => Response.json({ files: [{ contentType: 'application/smart-health-card', embedded: s.made.jwe }] }));
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_CONTENT_UNSUPPORTED');
    s.set(() => Response.json({ files: [{ contentType: FHIR_JSON, embedded: s.made.jwe }] }));
    expect(await code(openShl({ ...s.made.payload, key: KEY }, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_DECRYPT_FAILED');
    const notFhir = await encryptJwe(new TextEncoder().encode('[1,2]'), fromBase64Url(s.made.payload.key), { iv: new Uint8Array(12) });
    s.set(() => Response.json({ files: [{ contentType: FHIR_JSON, embedded: notFhir }] }));
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_CONTENT_UNSUPPORTED');
  });

  it('a network failure or a malformed manifest is SHL_FETCH_FAILED', async () => {
    const s = await setup();
    const down = (async () => {
      throw new TypeError('network');
    }) as unknown as typeof fetch;
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: down }))).toBe('SHL_FETCH_FAILED');
    s.set(() => Response.json({ nope: true }));
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_FETCH_FAILED');
    s.set(() => new Response('x', { status: 500 }));
    expect(await code(openShl(s.made.payload, { recipient: 'r', now: 0, fetch: s.fetch }))).toBe('SHL_FETCH_FAILED');
  });
});
