/**
 * QrCode's matrix and SVG path. Without a decoder in the tree, check what a scanner relies on:
 * size for the version, the finder patterns and timing lines where the spec puts them, the quiet
 * zone, the format information (it really says ECC level M) and, for version ≥ 7, the version
 * blocks; then that the SVG path draws exactly the dark modules, in the same orientation.
 */
import { describe, expect, it } from 'vitest';
import { QUIET_ZONE, qrMatrix, qrPath, type QrMatrix } from '../../src/lib/components/qr-matrix.ts';

const B = QUIET_ZONE;
const invite = (secret: string) => `https://vault.example.org/#/join/${'D'.repeat(22)}.${secret}`;
const SECRET = 'k3J9x_2mQvT8wLpZ0aYcR4nB6eHf1uGs7dNiO5jVxKq'; // 43 base64url characters, like a real one

/** Module at symbol coordinates (x = column, y = row), quiet zone excluded. */
const at = (q: QrMatrix, x: number, y: number) => q.modules[y + B]![x + B]!;
const symbolSize = (q: QrMatrix) => q.size - 2 * B;

/** BCH(15,5) remainder of the format information, generator 0x537 (ISO 18004 Annex C). */
function formatBch(data5: number): number {
  let rem = data5;
  for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
  return rem & 0x3ff;
}

describe('qrMatrix', () => {
  it('an invite link is version 6 at ECC M: 41 modules plus a 4-module quiet zone each side', () => {
    const link = invite(SECRET);
    expect(link.length).toBe(99);
    const q = qrMatrix(link);
    expect(q.version).toBe(6);
    expect(symbolSize(q)).toBe(17 + 4 * 6);
    expect(q.size).toBe(41 + 2 * B);
    expect(q.modules).toHaveLength(q.size);
    for (const row of q.modules) expect(row).toHaveLength(q.size);
  });

  it('version follows the byte-mode capacity table for M (106 bytes in v6, 107 needs v7)', () => {
    expect(qrMatrix('hello').version).toBe(1);
    expect(qrMatrix('x'.repeat(106)).version).toBe(6);
    expect(qrMatrix('x'.repeat(107)).version).toBe(7);
    expect(qrMatrix(invite(SECRET), 'Q').version).toBe(8);
  });

  it('keeps the quiet zone light on all four sides', () => {
    const q = qrMatrix(invite(SECRET));
    for (let i = 0; i < q.size; i++) {
      for (let k = 0; k < B; k++) {
        expect(q.modules[k]![i]).toBe(false);
        expect(q.modules[q.size - 1 - k]![i]).toBe(false);
        expect(q.modules[i]![k]).toBe(false);
        expect(q.modules[i]![q.size - 1 - k]).toBe(false);
      }
    }
  });

  it('has the three finder patterns (with light separators) at the top-left, top-right and bottom-left', () => {
    const q = qrMatrix(invite(SECRET));
    const n = symbolSize(q);
    for (const [ox, oy] of [[0, 0], [n - 7, 0], [0, n - 7]] as const) {
      for (let dy = -1; dy <= 7; dy++) {
        for (let dx = -1; dx <= 7; dx++) {
          const x = ox + dx;
          const y = oy + dy;
          if (x < 0 || y < 0 || x >= n || y >= n) continue;
          const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3)); // 0–1 centre, 2 light, 3 dark, 4 separator
          expect(at(q, x, y), `finder at ${ox},${oy} module ${dx},${dy}`).toBe(ring === 3 || ring <= 1);
        }
      }
    }
    // The bottom-right corner is data, not a fourth finder.
    const br = [0, 1, 2, 3, 4, 5, 6].every((d) => at(q, n - 1 - d, n - 1) && at(q, n - 1, n - 1 - d));
    expect(br).toBe(false);
  });

  it('has the timing patterns on row 6 and column 6, and the dark module', () => {
    const q = qrMatrix(invite(SECRET));
    const n = symbolSize(q);
    for (let i = 8; i < n - 8; i++) {
      expect(at(q, i, 6)).toBe(i % 2 === 0);
      expect(at(q, 6, i)).toBe(i % 2 === 0);
    }
    expect(at(q, 8, n - 8)).toBe(true);
  });

  it('format information reads ECC level M, with a valid BCH code, identically in both copies', () => {
    for (const [value, ecc, level] of [[invite(SECRET), 'M', 0b00], ['hello', 'M', 0b00], ['hello', 'Q', 0b11]] as const) {
      const q = qrMatrix(value, ecc);
      const n = symbolSize(q);
      let a = 0;
      let b = 0;
      // Bit i of copy 1 and copy 2, positions per ISO 18004 §7.9.1 (bit 0 = least significant).
      for (let i = 0; i < 15; i++) {
        const [x1, y1] = i <= 5 ? [8, i] : i === 6 ? [8, 7] : i === 7 ? [8, 8] : i === 8 ? [7, 8] : [14 - i, 8];
        const [x2, y2] = i < 8 ? [n - 1 - i, 8] : [8, n - 15 + i];
        if (at(q, x1, y1)) a |= 1 << i;
        if (at(q, x2, y2)) b |= 1 << i;
      }
      expect(a).toBe(b);
      const bits = a ^ 0x5412;
      expect(bits >>> 13, `${ecc} for ${value}`).toBe(level);
      expect(bits & 0x3ff).toBe(formatBch(bits >>> 10));
    }
  });

  it('version 7 and up carry the version number in both 6×3 blocks', () => {
    const q = qrMatrix('x'.repeat(107));
    const n = symbolSize(q);
    let top = 0;
    let left = 0;
    for (let i = 0; i < 18; i++) {
      const a = n - 11 + (i % 3);
      const b = Math.floor(i / 3);
      if (at(q, a, b)) top |= 1 << i;
      if (at(q, b, a)) left |= 1 << i;
    }
    expect(top).toBe(left);
    expect(top >>> 12).toBe(7);
  });

  it('different inputs give different matrices; the same input the same matrix', () => {
    const a = qrMatrix(invite(SECRET));
    const b = qrMatrix(invite(SECRET.replace('k', 'K')));
    expect(a.size).toBe(b.size);
    expect(a.modules).not.toEqual(b.modules);
    expect(qrMatrix(invite(SECRET)).modules).toEqual(a.modules);
  });

  it('throws for a value no QR version can hold', () => {
    expect(() => qrMatrix('x'.repeat(3000))).toThrow();
  });
});

describe('qrPath', () => {
  /** Parses the path back into a matrix: each `M x y h w v1 h-w z` is one run of dark modules. */
  function rasterize(d: string, size: number): boolean[][] {
    const m = Array.from({ length: size }, () => Array<boolean>(size).fill(false));
    const cmd = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/g;
    let consumed = 0;
    for (const r of d.matchAll(cmd)) {
      const [x, y, w, back] = r.slice(1).map(Number) as [number, number, number, number];
      expect(back).toBe(w);
      for (let i = 0; i < w; i++) {
        expect(m[y]![x + i], `overlap at ${x + i},${y}`).toBe(false);
        m[y]![x + i] = true;
      }
      consumed += r[0].length;
    }
    expect(consumed).toBe(d.length); // nothing in the path but runs
    return m;
  }

  it('draws exactly the dark modules, row = y, column = x', () => {
    const q = qrMatrix(invite(SECRET));
    expect(rasterize(qrPath(q.modules), q.size)).toEqual(q.modules);
  });

  it('merges horizontal runs and draws nothing for light modules', () => {
    expect(qrPath([[true, true, false, true], [false, false, false, false]])).toBe('M0 0h2v1h-2zM3 0h1v1h-1z');
    expect(qrPath([[false]])).toBe('');
  });
});
