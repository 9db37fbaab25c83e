/**
 * QR module matrix and its SVG path, pure so they can be tested without a DOM. uqr does the
 * encoding (zero dependencies, no canvas); we draw the SVG ourselves to control the markup
 * (one path, a <title>, crisp edges) instead of injecting uqr's SVG string as HTML.
 */
import { encode } from 'uqr';

/** Quiet zone in modules. The spec asks for 4; phone scanners fail more often with less. */
export const QUIET_ZONE = 4;

export interface QrMatrix {
  version: number;
  /** Modules per side, quiet zone included. */
  size: number;
  /** `modules[row][col]`, true = dark. */
  modules: boolean[][];
}

/**
 * ECC level M: an invite link (~100 characters) fits version 6 (41 modules plus the quiet zone),
 * which scans easily from a phone screen; Q would need version 8 for little gain on a screen that
 * is never smudged or torn. Throws if the value is too long for any QR version.
 */
export function qrMatrix(value: string, ecc: 'M' | 'Q' = 'M'): QrMatrix {
  const r = encode(value, { ecc, border: QUIET_ZONE });
  return { version: r.version, size: r.size, modules: r.data };
}

/**
 * SVG path drawing every dark module, one rectangle per horizontal run (a few hundred commands
 * rather than one <rect> per module), in module units for a `0 0 size size` viewBox.
 */
export function qrPath(modules: readonly (readonly boolean[])[]): string {
  let d = '';
  modules.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      d += `M${start} ${y}h${x - start}v1h-${x - start}z`;
    }
  });
  return d;
}
