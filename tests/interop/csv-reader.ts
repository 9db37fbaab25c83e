/**
 * A minimal strict RFC 4180 reader for the CSV tests (csv-parse is not a dependency yet): CRLF
 * records, quoted fields with doubled quotes, and a refusal (throw) of anything else: a bare LF
 * line end, a quote inside an unquoted field, text after a closing quote, an unterminated quote,
 * ragged rows.
 */
export function readCsv(text: string): string[][] {
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
