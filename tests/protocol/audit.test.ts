/**
 * Audit chain: a 1,000-entry seeded chain verifies; tampering at EVERY position (byte flip,
 * removal, swap, duplication, re-signed edit) is refused at the right index with the right code;
 * what the chain alone cannot see (dropping or re-signing the last entry) changes the head.
 *
 * Speed: one full verification is ~1,000 Ed25519 verifies (~0.25 s), so the per-position
 * tamper loops verify from the stored head just before the tampered position (`from`), which is
 * exact because every earlier entry is byte-identical (asserted); a few positions are also
 * re-verified from scratch and must give the same answer.
 */
import { createHash } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  createWebCryptoEngine,
  signingKeyPairFromSeed,
  type SigningKeyPair,
  type SigningPublicKey,
} from '../../src/lib/crypto/index.ts';
import {
  AUDIT_FIXED_LENGTH,
  AUDIT_MAX_DETAIL_BYTES,
  AuditKind,
  auditEntryHash,
  encodeAuditEntry,
  parseAuditEntry,
  signAuditEntry,
  verifyAuditChain,
  type AuditChainHead,
  type AuditChainResult,
  type AuditEntry,
  type AuditErrorCode,
  type AuditKindName,
} from '../../src/lib/protocol/audit.ts';
import { ProtocolErrors } from '../../src/lib/protocol/errors.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { toHexRef } from '../crypto/helpers.ts';

const FILE = 'tests/protocol/audit.test.ts';
const engine = createWebCryptoEngine();
const N = 1000;
const KINDS = Object.keys(AuditKind) as AuditKindName[];
const hex = toHexRef;

interface Chain {
  readonly members: SigningKeyPair[];
  readonly outsider: SigningKeyPair;
  readonly entries: readonly AuditEntry[];
  readonly bytes: readonly Uint8Array[];
  readonly signer: readonly SigningKeyPair[];
  /** heads[k] = state after the first k entries (heads[0] = empty chain). */
  readonly heads: readonly AuditChainHead[];
}

const chains = new Map<number, Promise<Chain>>();
/** One chain per seed, shared by the tests that run with the same seed (TEST_SEED). */
function chainFor(prng: Prng): Promise<Chain> {
  let c = chains.get(prng.seed);
  if (!c) {
    c = buildChain(prng);
    chains.set(prng.seed, c);
  }
  return c;
}

async function buildChain(prng: Prng): Promise<Chain> {
  const members = Array.from({ length: 4 }, () => signingKeyPairFromSeed(prng.bytes(32)));
  const outsider = signingKeyPairFromSeed(prng.bytes(32));
  const entries: AuditEntry[] = [];
  const bytes: Uint8Array[] = [];
  const signer: SigningKeyPair[] = [];
  const heads: AuditChainHead[] = [{ length: 0, head: new Uint8Array(32) as AuditChainHead['head'], lastAt: 0 }];
  let at = 1_700_000_000_000 + prng.int(0, 1e9);
  for (let i = 0; i < N; i++) {
    const kp = prng.pick(members);
    at += prng.bool(0.2) ? 0 : prng.int(1, 600_000); // equal times are allowed
    const entry: AuditEntry = {
      kind: prng.pick(KINDS),
      at,
      actor: kp.publicKey,
      seq: i + 1,
      prev: heads[i]!.head,
      ...(prng.bool() ? { subject: prng.bytes(32) } : {}),
      ...(prng.bool(0.8) ? { detail: `detail-${i}-${prng.word()}${prng.bool(0.1) ? '-é✓' : ''}` } : {}),
    };
    const b = await signAuditEntry({ entry, secretKey: kp.secretKey, engine });
    entries.push(entry);
    bytes.push(b);
    signer.push(kp);
    heads.push({ length: i + 1, head: auditEntryHash(b), lastAt: at });
  }
  return { members, outsider, entries, bytes, signer, heads };
}

const memberCheck = (c: Chain) => {
  const allowed = new Set(c.members.map((m) => hex(m.publicKey)));
  return (pk: SigningPublicKey) => allowed.has(hex(pk));
};

/**
 * Verifies `tampered`, which must equal the intact chain before `at`, from the stored head at
 * `at` (the prefix is byte-identical, so a full verification would reach the same state there).
 */
function verifyFrom(c: Chain, tampered: readonly Uint8Array[], at: number): Promise<AuditChainResult> {
  for (let j = 0; j < at; j++) if (tampered[j] !== c.bytes[j]) throw new Error(`prefix differs at ${j}`);
  return verifyAuditChain(tampered.slice(at), { engine, from: c.heads[at]! });
}

function expectFailure(r: AuditChainResult, code: AuditErrorCode, index: number, c: Chain, extraSecrets: string[] = []): void {
  if (r.ok) throw new Error(`expected ${code} at index ${index}, chain verified`);
  expect({ code: r.code, index: r.index }).toEqual({ code, index });
  expect(r.message).toMatch(new RegExp(`\\bindex ${index}\\b`));
  for (const k of [index - 1, index, index + 1]) {
    const d = c.entries[k]?.detail;
    if (d) expect(r.message).not.toContain(d);
  }
  for (const s of extraSecrets) expect(r.message).not.toContain(s);
}

const sameHead = (a: AuditChainHead, b: AuditChainHead) =>
  a.length === b.length && hex(a.head) === hex(b.head) && a.lastAt === b.lastAt;

describe('audit entry encoding', () => {
  it('has the documented layout, signature and hash (independent check with tweetnacl and node:crypto)', async () => {
    await withSeed(FILE, 'layout', async (prng) => {
      const kp = signingKeyPairFromSeed(prng.bytes(32));
      const subject = prng.bytes(32);
      const prev = prng.bytes(32);
      const entry: AuditEntry = { kind: 'clinician-view', at: 2 ** 40 + 12345, actor: kp.publicKey, subject, detail: 'ok ✓', seq: 70000, prev };
      const bytes = await signAuditEntry({ entry, secretKey: kp.secretKey, engine });
      const body = bytes.subarray(0, bytes.length - 64);
      expect(hex(body)).toBe(hex(encodeAuditEntry(entry)));
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      expect(bytes[0]).toBe(1);
      expect(bytes[1]).toBe(7);
      expect(view.getUint32(2)).toBe(70000);
      expect(view.getUint16(6) * 2 ** 32 + view.getUint32(8)).toBe(2 ** 40 + 12345);
      expect(hex(bytes.subarray(12, 44))).toBe(hex(kp.publicKey));
      expect(hex(bytes.subarray(44, 76))).toBe(hex(prev));
      expect(bytes[76]).toBe(0b11);
      expect(AUDIT_FIXED_LENGTH).toBe(77);
      expect(hex(bytes.subarray(77, 109))).toBe(hex(subject));
      expect(view.getUint16(109)).toBe(Buffer.byteLength('ok ✓'));
      expect(Buffer.from(bytes.subarray(111, body.length)).toString('utf8')).toBe('ok ✓');
      const signed = new Uint8Array([...Buffer.from('fhv/audit/v1'), ...body]);
      expect(nacl.sign.detached.verify(signed, bytes.subarray(body.length), kp.publicKey)).toBe(true);
      const domain = Buffer.from('fhv/audit-hash/v1');
      const refHash = createHash('sha256').update(Uint8Array.of(domain.length)).update(domain).update(body).digest('hex');
      expect(hex(auditEntryHash(bytes))).toBe(refHash);
    });
  });

  it('round-trips every kind with and without subject and detail (empty, 256-byte multibyte)', async () => {
    await withSeed(FILE, 'round trip', async (prng) => {
      const kp = signingKeyPairFromSeed(prng.bytes(32));
      const details = [undefined, '', 'x', 'é'.repeat(AUDIT_MAX_DETAIL_BYTES / 2), 'a'.repeat(AUDIT_MAX_DETAIL_BYTES)];
      for (const kind of KINDS) {
        for (const subject of [undefined, prng.bytes(32)]) {
          for (const detail of details) {
            const entry: AuditEntry = {
              kind,
              at: prng.int(0, 2 ** 47),
              actor: kp.publicKey,
              seq: prng.int(1, 2 ** 32 - 1),
              prev: prng.bytes(32),
              ...(subject ? { subject } : {}),
              ...(detail !== undefined ? { detail } : {}),
            };
            const parsed = parseAuditEntry(await signAuditEntry({ entry, secretKey: kp.secretKey, engine }));
            if (!parsed.ok) throw new Error(parsed.message);
            expect(parsed.value.entry).toEqual(entry);
            expect('detail' in parsed.value.entry).toBe(detail !== undefined);
            expect('subject' in parsed.value.entry).toBe(subject !== undefined);
          }
        }
      }
    });
  });

  it('refuses to encode out-of-range fields or sign for another actor', async () => {
    const kp = signingKeyPairFromSeed(new Uint8Array(32).fill(1));
    const other = signingKeyPairFromSeed(new Uint8Array(32).fill(2));
    const base: AuditEntry = { kind: 'join', at: 1, actor: kp.publicKey, seq: 1, prev: new Uint8Array(32) };
    const bad: Partial<Record<keyof AuditEntry, unknown>>[] = [
      { detail: 'a'.repeat(AUDIT_MAX_DETAIL_BYTES + 1) },
      { detail: 'é'.repeat(AUDIT_MAX_DETAIL_BYTES / 2 + 1) },
      { detail: '\ud800' },
      { subject: new Uint8Array(31) },
      { prev: new Uint8Array(33) },
      { actor: new Uint8Array(31) },
      { seq: 0 },
      { seq: 2 ** 32 },
      { seq: 1.5 },
      { at: -1 },
      { at: 2 ** 48 },
      { kind: 'delete' },
    ];
    expect(encodeAuditEntry(base).length).toBe(AUDIT_FIXED_LENGTH);
    for (const over of bad) expect(() => encodeAuditEntry({ ...base, ...over } as AuditEntry)).toThrow(RangeError);
    await expect(signAuditEntry({ entry: base, secretKey: other.secretKey, engine })).rejects.toThrow(RangeError);
  });

  it('parsing rejects every truncation, trailing bytes and non-canonical fields as AUDIT_MALFORMED', async () => {
    const kp = signingKeyPairFromSeed(new Uint8Array(32).fill(3));
    const entry: AuditEntry = { kind: 'export', at: 5, actor: kp.publicKey, seq: 2, prev: new Uint8Array(32).fill(1), subject: new Uint8Array(32).fill(4), detail: 'pdf' };
    const good = await signAuditEntry({ entry, secretKey: kp.secretKey, engine });
    expect(parseAuditEntry(good).ok).toBe(true);
    const malformed = (b: Uint8Array) => {
      const r = parseAuditEntry(b);
      expect(r.ok ? 'ok' : r.code).toBe('AUDIT_MALFORMED');
    };
    for (let n = 0; n < good.length; n++) malformed(good.slice(0, n));
    malformed(new Uint8Array([...good, 0]));
    const edit = (offset: number, value: number) => {
      const b = good.slice();
      b[offset] = value;
      return b;
    };
    malformed(edit(0, 2)); // version
    malformed(edit(1, 0)); // kind
    malformed(edit(1, 12)); // the first unknown kind (11 is device-label, decision 0038)
    malformed(edit(76, 0b111)); // unknown flag
    malformed(edit(76, 0b01)); // says no detail: bytes left over
    malformed(edit(5, 0) /* seq 2 → 0 */);
    const detailStart = AUDIT_FIXED_LENGTH + 32 + 2;
    malformed(edit(detailStart, 0xff)); // invalid UTF-8
    malformed(edit(detailStart - 2, 0x01)); // detail length 259 > 256 (and past the end)
  });
});

describe('audit chain of 1,000 entries', () => {
  it('the intact chain verifies in full and incrementally, to the same head', async () => {
    await withSeed(FILE, 'intact', async (prng) => {
      const c = await chainFor(prng);
      const t0 = performance.now();
      const full = await verifyAuditChain(c.bytes, { engine, isAuthorizedActor: memberCheck(c) });
      const ms = performance.now() - t0;
      if (!full.ok) throw new Error(full.message);
      expect(sameHead(full.value, c.heads[N]!)).toBe(true);
      expect(full.value.length).toBe(N);
      // One entry at a time from each stored head reaches the next stored head.
      for (let i = 0; i < N; i++) {
        const r = await verifyAuditChain([c.bytes[i]!], { engine, from: c.heads[i]! });
        if (!r.ok) throw new Error(r.message);
        expect(sameHead(r.value, c.heads[i + 1]!)).toBe(true);
      }
      // Split at a random point: prefix, then the rest from the prefix's head.
      const cut = prng.int(0, N);
      const a = await verifyAuditChain(c.bytes.slice(0, cut), { engine });
      if (!a.ok) throw new Error(a.message);
      const b = await verifyAuditChain(c.bytes.slice(cut), { engine, from: a.value });
      expect(b.ok && sameHead(b.value, full.value)).toBe(true);
      const empty = await verifyAuditChain([], { engine });
      expect(empty.ok && empty.value.length === 0 && hex(empty.value.head) === '00'.repeat(32)).toBe(true);
      console.info(`audit: full verification of ${N} entries took ${ms.toFixed(0)} ms`);
    });
  });

  it('(a) flipping a byte of the body at EVERY position is refused at that index', async () => {
    await withSeed(FILE, 'flip', async (prng) => {
      const c = await chainFor(prng);
      let badSignature = 0;
      for (let i = 0; i < N; i++) {
        const b = c.bytes[i]!.slice();
        b[prng.int(0, b.length - 65)]! ^= prng.int(1, 255);
        const tampered = [...c.bytes];
        tampered[i] = b;
        // Still parseable → the signature must catch it; otherwise it is malformed.
        const code: AuditErrorCode = parseAuditEntry(b).ok ? 'AUDIT_BAD_SIGNATURE' : 'AUDIT_MALFORMED';
        if (code === 'AUDIT_BAD_SIGNATURE') badSignature++;
        expectFailure(await verifyFrom(c, tampered, i), code, i, c);
      }
      // Most flips hit fields where any value parses: the signature did the work.
      expect(badSignature).toBeGreaterThan(N * 0.7);
      // And for one entry, every single byte of the body and of the signature.
      const k = prng.int(0, N - 1);
      for (let off = 0; off < c.bytes[k]!.length; off++) {
        const b = c.bytes[k]!.slice();
        b[off]! ^= 0x01;
        const tampered = [...c.bytes];
        tampered[k] = b;
        const r = await verifyFrom(c, tampered, k);
        expect(!r.ok && r.index === k && ['AUDIT_BAD_SIGNATURE', 'AUDIT_MALFORMED'].includes(r.code)).toBe(true);
        if (off >= c.bytes[k]!.length - 64) expect(!r.ok && r.code).toBe('AUDIT_BAD_SIGNATURE');
      }
    });
  });

  it('(b) removing entry i is refused at i; removing the last only changes the head', async () => {
    await withSeed(FILE, 'remove', async (prng) => {
      const c = await chainFor(prng);
      for (let i = 0; i < N; i++) {
        const tampered = c.bytes.filter((_, j) => j !== i);
        const r = await verifyFrom(c, tampered, i);
        if (i < N - 1) {
          expectFailure(r, 'AUDIT_OUT_OF_ORDER', i, c);
        } else {
          // Truncation is invisible to the chain alone; a stored head catches it.
          if (!r.ok) throw new Error(r.message);
          expect(r.value.length).toBe(N - 1);
          expect(sameHead(r.value, c.heads[N]!)).toBe(false);
          expect(hex(r.value.head)).not.toBe(hex(c.heads[N]!.head));
        }
      }
    });
  });

  it('(c) swapping entries i and i+1 is refused at i, for every i', async () => {
    await withSeed(FILE, 'swap', async (prng) => {
      const c = await chainFor(prng);
      for (let i = 0; i < N - 1; i++) {
        const tampered = [...c.bytes];
        [tampered[i], tampered[i + 1]] = [tampered[i + 1]!, tampered[i]!];
        expectFailure(await verifyFrom(c, tampered, i), 'AUDIT_OUT_OF_ORDER', i, c);
      }
    });
  });

  it('(c′) inserting a replayed copy of entry i after it is refused at i+1, for every i', async () => {
    await withSeed(FILE, 'duplicate', async (prng) => {
      const c = await chainFor(prng);
      for (let i = 0; i < N; i++) {
        const tampered = [...c.bytes.slice(0, i + 1), c.bytes[i]!.slice(), ...c.bytes.slice(i + 1)];
        expectFailure(await verifyFrom(c, tampered, i), 'AUDIT_OUT_OF_ORDER', i + 1, c);
      }
    });
  });

  it('(d) a validly re-signed entry with edited detail breaks the chain at i+1; at the end only the head changes', async () => {
    await withSeed(FILE, 'resign', async (prng) => {
      const c = await chainFor(prng);
      for (let i = 0; i < N; i++) {
        const edited = `edited-${i}-${prng.word()}`;
        const entry: AuditEntry = { ...c.entries[i]!, detail: edited };
        const forged = await signAuditEntry({ entry, secretKey: c.signer[i]!.secretKey, engine });
        const tampered = [...c.bytes];
        tampered[i] = forged;
        const r = await verifyFrom(c, tampered, i);
        if (i < N - 1) {
          expectFailure(r, 'AUDIT_BROKEN_CHAIN', i + 1, c, [edited]);
        } else {
          if (!r.ok) throw new Error(r.message);
          expect(r.value.length).toBe(N);
          expect(hex(r.value.head)).not.toBe(hex(c.heads[N]!.head));
        }
      }
    });
  });

  it('incremental answers equal full verification from scratch (sampled positions)', async () => {
    await withSeed(FILE, 'full equals incremental', async (prng) => {
      const c = await chainFor(prng);
      const positions = [0, prng.int(1, N - 2)];
      for (const i of positions) {
        const flipped = c.bytes[i]!.slice();
        flipped[20]! ^= 0x40; // inside actor: always parses
        const forged = await signAuditEntry({
          entry: { ...c.entries[i]!, detail: 'edited' },
          secretKey: c.signer[i]!.secretKey,
          engine,
        });
        const cases: Uint8Array[][] = [
          c.bytes.map((b, j) => (j === i ? flipped : b)),
          c.bytes.filter((_, j) => j !== i),
          c.bytes.map((b, j) => (j === i ? c.bytes[i + 1]! : j === i + 1 ? c.bytes[i]! : b)),
          c.bytes.map((b, j) => (j === i ? forged : b)),
        ];
        const expected: [AuditErrorCode, number][] = [
          ['AUDIT_BAD_SIGNATURE', i],
          ['AUDIT_OUT_OF_ORDER', i],
          ['AUDIT_OUT_OF_ORDER', i],
          ['AUDIT_BROKEN_CHAIN', i + 1],
        ];
        for (let k = 0; k < cases.length; k++) {
          const full = await verifyAuditChain(cases[k]!, { engine });
          const inc = await verifyFrom(c, cases[k]!, i);
          expectFailure(full, expected[k]![0], expected[k]![1], c);
          expect(inc).toEqual(full);
        }
      }
    });
  });

  it('refuses an unauthorised actor, time going backwards, and checks in the documented order', async () => {
    await withSeed(FILE, 'policy', async (prng) => {
      const c = await chainFor(prng);
      const isAuthorizedActor = memberCheck(c);
      const k = prng.int(1, N - 1);
      const from = c.heads[k]!;
      const next = (signer: SigningKeyPair, over: Partial<AuditEntry> = {}) =>
        signAuditEntry({
          entry: { kind: 'grant', at: from.lastAt, actor: signer.publicKey, seq: k + 1, prev: from.head, detail: 'secret-note', ...over },
          secretKey: signer.secretKey,
          engine,
        });
      const verify = (bytes: Uint8Array, withPolicy = true) =>
        verifyAuditChain([bytes], { engine, from, ...(withPolicy ? { isAuthorizedActor } : {}) });

      // An outsider's validly signed, well-chained entry: fine without policy, refused with it.
      const byOutsider = await next(c.outsider);
      const noPolicy = await verify(byOutsider, false);
      expect(noPolicy.ok && noPolicy.value.length).toBe(k + 1);
      expectFailure(await verify(byOutsider), 'AUDIT_UNAUTHORIZED', k, c, ['secret-note']);
      // A member at the same millisecond is fine; one millisecond earlier is refused.
      const member = c.members[0]!;
      const same = await verify(await next(member));
      expect(same.ok && same.value.length).toBe(k + 1);
      expectFailure(await verify(await next(member, { at: from.lastAt - 1 })), 'AUDIT_TIME_REVERSED', k, c, ['secret-note']);
      // Order of checks: time before actor, chain before time, seq before chain, signature first.
      const wrongPrev = new Uint8Array(32).fill(9);
      expectFailure(await verify(await next(c.outsider, { at: from.lastAt - 1 })), 'AUDIT_TIME_REVERSED', k, c);
      expectFailure(await verify(await next(c.outsider, { at: from.lastAt - 1, prev: wrongPrev })), 'AUDIT_BROKEN_CHAIN', k, c);
      expectFailure(await verify(await next(c.outsider, { at: 0, prev: wrongPrev, seq: k + 5 })), 'AUDIT_OUT_OF_ORDER', k, c);
      const badSig = await next(c.outsider, { seq: k + 5 });
      badSig[badSig.length - 1]! ^= 1;
      expectFailure(await verify(badSig), 'AUDIT_BAD_SIGNATURE', k, c);
      // The callback sees the actor of every entry.
      const seen = new Set<string>();
      const r = await verifyAuditChain(c.bytes.slice(0, 50), { engine, isAuthorizedActor: (pk) => (seen.add(hex(pk)), true) });
      expect(r.ok).toBe(true);
      expect([...seen].sort()).toEqual([...new Set(c.bytes.slice(0, 50).map((_, j) => hex(c.signer[j]!.publicKey)))].sort());
    });
  });

  it('audit error codes are the ProtocolErrors numbers 180–185, each unique', () => {
    const audit = Object.entries(ProtocolErrors).filter(([name]) => name.startsWith('AUDIT_'));
    expect(audit.map(([, n]) => n)).toEqual([180, 181, 182, 183, 184, 185]);
    const numbers = Object.values(ProtocolErrors);
    expect(new Set(numbers).size).toBe(numbers.length);
  });
});
