/**
 * Reading CSV exports back: `readCsv` parses with csv-parse (a maintained CSV library, strict
 * options: CRLF records, no relaxed quotes or column counts) and checks the text with a minimal
 * strict RFC 4180 reader of our own (`strictRfc4180`), which also refuses what csv-parse would
 * read another way (a bare LF line end); the two must agree.
 */
import { parse } from 'csv-parse/sync';

export function readCsv(text: string): string[][] {
  const strict = strictRfc4180(text);
  const library = parse(text, { record_delimiter: '\r\n', relax_quotes: false, relax_column_count: false, skip_empty_lines: false }) as string[][];
  if (JSON.stringify(library) !== JSON.stringify(strict)) throw new Error('csv-parse and the strict RFC 4180 reader disagree');
  return library;
}

/** CRLF records, quoted fields with doubled quotes; throws on anything else (bare LF, stray quote, text after a closing quote, unterminated quote, ragged rows). */
export function strictRfc4180(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`not RFC 4180 at offset ${i}: ${why}`);
  };
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) fail('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') fail('quote in an unquoted field');
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r' && text[i + 1] === '\n') {
      i += 2;
      rows.push(row);
      row = [];
      continue;
    }
    if (i < text.length) fail(text[i] === '\n' ? 'bare LF line end' : 'text after a closing quote');
  }
  if (row.length > 0) fail('last record without CRLF');
  const width = rows[0]?.length ?? 0;
  rows.forEach((r, n) => {
    if (r.length !== width) throw new Error(`not RFC 4180: row ${n} has ${r.length} fields, the header ${width}`);
  });
  return rows;
}
