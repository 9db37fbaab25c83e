/**
 * One error family (src/lib/errors.ts, docs/errors.md): every layer's table stays in its number
 * range, no number or code appears twice, the docs table is exactly the code tables, and each
 * error class carries the number of its own table.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, CliErrors } from '../src/cli/errors.ts';
import { CryptoError, CryptoErrors, decodeRecoveryCode, type RecoveryCodeErrorCode } from '../src/lib/crypto/index.ts';
import { CodedError, ErrorRanges, type ErrorLayer } from '../src/lib/errors.ts';
import { ProtocolError, ProtocolErrors, type ProtocolErrorCode } from '../src/lib/protocol/index.ts';
import type { SyncProblem } from '../src/lib/sync/status.ts';
import { VaultError, VaultErrors, type VaultErrorCode } from '../src/lib/vault/errors.ts';
import { InviteError, type InviteErrorCode } from '../src/lib/vault/invite.ts';
import { RecordError } from '../src/lib/vault/records.ts';
import { closeCodeOf, RelayErrors, RelayRefusal } from '../server/errors.ts';

const TABLES: Record<ErrorLayer, Readonly<Record<string, number>>> = {
  crypto: CryptoErrors,
  protocol: ProtocolErrors,
  vault: VaultErrors,
  cli: CliErrors,
  relay: RelayErrors,
};

const entries = Object.entries(TABLES).flatMap(([layer, table]) =>
  Object.entries(table).map(([code, number]) => ({ layer: layer as ErrorLayer, code, number })),
);

const duplicates = <T>(xs: readonly T[]): T[] => xs.filter((x, i) => xs.indexOf(x) !== i);

/** The rows of docs/errors.md's code table: `| 164 | \`TOKEN_NOT_MEMBER\` | protocol | meaning | recovery |`. */
function docRows(): Array<{ number: number; code: string; layer: string }> {
  const text = readFileSync(resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');
  return [...text.matchAll(/^\|\s*(\d+)\s*\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*([a-z]+)\s*\|/gm)].map((m) => ({
    number: Number(m[1]),
    code: m[2]!,
    layer: m[3]!,
  }));
}

// Compile-time checks (tsc runs over tests/): a wrong table here fails `npm run check`.
/** Crypto's recovery-code decoder may not import the vault, yet its codes are vault codes. */
const recoveryCodesAreVaultCodes = (c: RecoveryCodeErrorCode): VaultErrorCode => c;
/** Every sync problem's code is a code of the protocol table. */
const syncProblemCodesAreProtocolCodes = (p: SyncProblem): ProtocolErrorCode => p.code;
void recoveryCodesAreVaultCodes;
void syncProblemCodesAreProtocolCodes;

describe('error tables', () => {
  it('every table has codes, each number within its layer range', () => {
    for (const [layer, table] of Object.entries(TABLES)) expect(Object.keys(table).length, layer).toBeGreaterThan(0);
    const outside = entries.filter(({ layer, number }) => {
      const [low, high] = ErrorRanges[layer];
      return !Number.isInteger(number) || number < low || number > high;
    });
    expect(outside).toEqual([]);
  });

  it('the layer ranges do not overlap', () => {
    const ranges = Object.values(ErrorRanges).toSorted((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBeGreaterThan(ranges[i - 1]![1]);
  });

  it('numbers and codes are unique across all tables', () => {
    expect(duplicates(entries.map((e) => e.number))).toEqual([]);
    expect(duplicates(entries.map((e) => e.code))).toEqual([]);
  });

  it('docs/errors.md has one row per code, with its number and layer, and no row that is not a code', () => {
    const rows = docRows();
    expect(rows.length).toBeGreaterThan(0);
    expect(duplicates(rows.map((r) => r.code))).toEqual([]);
    const documented = new Map(rows.map((r) => [r.code, r]));
    const missing = entries.filter((e) => documented.get(e.code)?.number !== e.number || documented.get(e.code)?.layer !== e.layer);
    expect(missing.map((e) => `${e.number} ${e.code} (${e.layer})`)).toEqual([]);
    const known = new Set(entries.map((e) => e.code));
    expect(rows.filter((r) => !known.has(r.code)).map((r) => `${r.number} ${r.code}`)).toEqual([]);
  });

  it('the recovery-code decoder returns vault codes', () => {
    const malformed = decodeRecoveryCode('!');
    expect(malformed.ok).toBe(false);
    if (!malformed.ok) expect(Object.hasOwn(VaultErrors, malformed.code)).toBe(true);
  });
});

describe('error classes carry their table numbers', () => {
  const codesOf = <C extends string>(table: Readonly<Record<C, number>>) => Object.keys(table) as C[];

  it('CryptoError', () => {
    for (const code of codesOf(CryptoErrors)) expectCoded(new CryptoError(code, 'm'), code, CryptoErrors[code]);
  });

  it('ProtocolError', () => {
    for (const code of codesOf(ProtocolErrors)) expectCoded(new ProtocolError({ ok: false, code, message: 'm' }), code, ProtocolErrors[code]);
  });

  it('VaultError, RecordError and InviteError', () => {
    for (const code of codesOf(VaultErrors)) expectCoded(new VaultError(code, 'm'), code, VaultErrors[code]);
    for (const code of ['RECORD_INVALID', 'RECORD_NOT_FOUND', 'RECORD_READ_ONLY'] as const) {
      const e = new RecordError(code, 'm');
      expectCoded(e, code, VaultErrors[code]);
      expect(e).toBeInstanceOf(VaultError);
    }
    const inviteCodes: InviteErrorCode[] = ['INVITE_MALFORMED', 'INVITE_REFUSED', 'INVITE_NO_KEY', 'INVITE_TIMEOUT', 'RELAY_NOT_CONFIGURED'];
    for (const code of inviteCodes) {
      const e = new InviteError(code, 'm', 'INVITE_USED');
      expectCoded(e, code, VaultErrors[code]);
      expect(e.reason).toBe('INVITE_USED');
    }
  });

  it('CliError', () => {
    for (const code of codesOf(CliErrors)) expectCoded(new CliError(code, 'm'), code, CliErrors[code]);
  });

  it('RelayRefusal: protocol code and number, close code 4000 + number mod 1000, unique per code', () => {
    const closeCodes = codesOf(ProtocolErrors).map((code) => {
      const refusal = new RelayRefusal({ code, message: 'm' });
      expectCoded(refusal, code, ProtocolErrors[code]);
      expect(refusal.closeCode).toBe(4000 + (ProtocolErrors[code] % 1000));
      // What hooks throw: Hocuspocus closes with a numeric `code` and the stable code as `reason`.
      expect(refusal.close).toEqual({ code: refusal.closeCode, reason: code });
      return refusal.closeCode;
    });
    expect(duplicates(closeCodes)).toEqual([]);
    // The close codes docs/errors.md names.
    expect([closeCodeOf('TOKEN_NOT_MEMBER'), closeCodeOf('RELAY_RATE_LIMITED'), closeCodeOf('PRESENCE_TOO_LARGE')]).toEqual([4164, 4171, 4186]);
  });
});

function expectCoded(e: CodedError, code: string, number: number): void {
  expect(e).toBeInstanceOf(CodedError);
  expect(e).toBeInstanceOf(Error);
  expect(e.code).toBe(code);
  expect(e.number).toBe(number);
}
