/**
 * The viewer's reading of a shared document (src/lib/interop/shl/ips-view.ts): a stranger's
 * XHTML narrative becomes plain text lines (nothing of its markup survives to be rendered), the
 * subject and sections come from the Composition, and anything else is named, not shown.
 */
import { describe, expect, it } from 'vitest';
import { ipsView, narrativeLines } from '../../src/lib/interop/shl/ips-view.ts';

describe('narrativeLines', () => {
  it('keeps the text of lists, paragraphs and tables, one line per block', () => {
    const div = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Known allergies:</p><ul><li>Peanut (high)</li><li>Latex</li></ul><table><tr><td>BP</td><td>128/82</td></tr></table></div>';
    expect(narrativeLines(div)).toEqual(['Known allergies:', 'Peanut (high)', 'Latex', 'BP · 128/82']);
  });

  it('drops scripts, styles, tags and attributes; decodes entities into inert text', () => {
    const div = '<div><script>alert(1)</script><style>p{}</style><p onclick="x()">A &lt;b&gt; &amp; &#233;&#x2764;<img src=x onerror=alert(2)></p></div>';
    expect(narrativeLines(div)).toEqual(['A <b> & é❤']);
  });
});

describe('ipsView', () => {
  const bundle = {
    resourceType: 'Bundle',
    type: 'document',
    entry: [
      { fullUrl: 'urn:uuid:c', resource: { resourceType: 'Composition', title: 'Patient Summary', date: '2026-12-01', subject: { reference: 'urn:uuid:p' }, section: [
        { title: 'Allergies', text: { div: '<div><ul><li>Peanut</li></ul></div>' }, entry: [{ reference: 'urn:uuid:a' }] },
        { title: 'Problems', entry: [{ reference: 'Condition/c1' }] },
        { code: { text: 'Medications' } },
      ] } },
      { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient', name: [{ given: ['Ana', 'Maria'], family: 'Silva' }], birthDate: '1980-02-03', gender: 'female' } },
      { fullUrl: 'urn:uuid:a', resource: { resourceType: 'AllergyIntolerance' } },
      { fullUrl: 'https://x.example/Condition/c1', resource: { resourceType: 'Condition', id: 'c1' } },
    ],
  };

  it('reads the subject and each section (narrative, else entry types, else "No information")', () => {
    expect(ipsView(bundle)).toEqual({
      title: 'Patient Summary',
      date: '2026-12-01',
      patient: { name: 'Ana Maria Silva', birthDate: '1980-02-03', gender: 'female' },
      sections: [
        { title: 'Allergies', lines: ['Peanut'] },
        { title: 'Problems', lines: ['Condition'] },
        { title: 'Medications', lines: ['No information'] },
      ],
    });
  });

  it('names what is not a document instead of guessing at it', () => {
    expect(ipsView({ resourceType: 'Patient' }).sections).toEqual([{ title: 'Content', lines: ['A Patient resource'] }]);
    expect(ipsView('nonsense')).toMatchObject({ title: 'Shared record', sections: [] });
  });
});
