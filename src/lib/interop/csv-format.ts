/**
 * RFC 4180 CSV writing: CRLF line ends, a header row, fields quoted when they hold a comma, a
 * quote, CR or LF (quotes doubled). Text cells that a spreadsheet would run as a formula
 * (starting with = + - @ tab or CR) get a leading apostrophe, OWASP's "CSV injection" advice:
 * a relative's note must not become a formula in the owner's spreadsheet. Numbers are written
 * as they are.
 */

/** A cell: text (neutralised against formulas), a number (as is), or nothing (empty). */
export type Cell = string | number | undefined;

const NEEDS_QUOTES = /[",\r\n]/;
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(cell: Cell): string {
  if (cell === undefined) return '';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvDocument(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}
