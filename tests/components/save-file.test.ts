/** A downloaded document's name gets the extension its stored MIME type calls for. */
import { describe, expect, it } from 'vitest';
import { fileNameFor } from '../../src/lib/components/save-file.ts';

describe('fileNameFor', () => {
  it('adds the extension of the stored MIME type to a title without one', () => {
    expect(fileNameFor('Discharge letter', 'application/pdf')).toBe('Discharge letter.pdf');
    expect(fileNameFor('X-ray', 'image/jpeg')).toBe('X-ray.jpg');
    expect(fileNameFor('Results', 'text/plain; charset=utf-8')).toBe('Results.txt');
  });

  it('keeps an extension the type already uses, in any case or spelling', () => {
    expect(fileNameFor('scan.PDF', 'application/pdf')).toBe('scan.PDF');
    expect(fileNameFor('photo.jpeg', 'image/jpeg')).toBe('photo.jpeg');
    expect(fileNameFor('report.v2', 'application/pdf')).toBe('report.v2.pdf');
  });

  it('leaves unknown types alone and replaces characters a file system refuses', () => {
    expect(fileNameFor('data', 'application/x-unknown')).toBe('data');
    expect(fileNameFor('Blood test 3/11', 'application/pdf')).toBe('Blood test 3-11.pdf');
    expect(fileNameFor('   ', 'image/png')).toBe('document.png');
  });
});
