/**
 * The look shared by the PDF documents (docs/decisions/0032): A4 pages, Roboto (the font pdfmake
 * embeds, with Latin, Greek and Cyrillic), section headings, tables that repeat their header row
 * on a new page, "None recorded" for an empty section, and a footer with the page number. Pure:
 * pdfmake document-definition objects only, nothing rendered here.
 */
import type { Content, TDocumentDefinitions, TableCell } from 'pdfmake/interfaces';

/** What a section with nothing in it says, so a reader can tell "none" from "left out". */
export const NONE_RECORDED = 'None recorded';

/** A FHIR date or dateTime as its calendar date (YYYY-MM-DD): unambiguous in every country. */
export const dayOf = (fhir: string | undefined): string => (fhir ? fhir.slice(0, 10) : '');

/** A heading and its body, or "None recorded" when there is nothing to show. */
export function section(title: string, body: Content | undefined): Content[] {
  return [{ text: title, style: 'h2' }, body ?? { text: NONE_RECORDED, style: 'none' }];
}

/** A table with a bold header row repeated on every page it runs over; undefined when empty. */
export function table(header: readonly string[], rows: readonly TableCell[][], widths: readonly (string | number)[]): Content | undefined {
  if (rows.length === 0) return undefined;
  return {
    table: { headerRows: 1, dontBreakRows: true, widths: [...widths], body: [header.map((h) => ({ text: h, style: 'th' })), ...rows] },
    layout: 'lightHorizontalLines',
    margin: [0, 2, 0, 6],
  };
}

/** Label: value lines for the person's details; empty values are left out. */
export function facts(pairs: readonly (readonly [label: string, value: string | undefined])[]): Content {
  return {
    columns: pairs
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([label, value]) => ({ width: 'auto', text: [{ text: `${label}: `, style: 'label' }, value!] })),
    columnGap: 18,
    margin: [0, 0, 0, 6],
  };
}

/** A whole document: the title, the content, the page footer and the shared styles. */
export function document(title: string, content: Content[], footerNote: string): TDocumentDefinitions {
  return {
    pageSize: 'A4',
    pageMargins: [40, 40, 40, 48],
    // The PDF's metadata names the kind of document, never the person (it may show in file lists).
    info: { title, creator: 'Family Health Vault', producer: 'Family Health Vault' },
    content: [{ text: title, style: 'h1' }, ...content],
    footer: (page, pages) => ({
      columns: [
        { text: footerNote, style: 'footer', width: '*' },
        { text: `Page ${page} of ${pages}`, style: 'footer', alignment: 'right', width: 'auto' },
      ],
      margin: [40, 16, 40, 0],
    }),
    defaultStyle: { font: 'Roboto', fontSize: 10, lineHeight: 1.15 },
    styles: {
      h1: { fontSize: 18, bold: true, margin: [0, 0, 0, 6] },
      h2: { fontSize: 13, bold: true, margin: [0, 10, 0, 3], color: '#1d3f6e' },
      th: { bold: true, fontSize: 9, color: '#333333' },
      label: { bold: true },
      none: { italics: true, color: '#555555', margin: [0, 0, 0, 4] },
      flag: { bold: true, color: '#b00020' },
      muted: { color: '#555555', fontSize: 9 },
      footer: { fontSize: 8, color: '#555555' },
    },
  };
}
