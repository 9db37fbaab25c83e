/**
 * Search across one profile's records, on the device, over the decrypted read model
 * (docs/decisions/0040). The index is a MiniSearch instance in this page's memory only: it is
 * never written to IndexedDB, Cache Storage, localStorage or anywhere else (threat model claim
 * 78), and it is dropped with the page. The query is never put in the URL (it is health data).
 *
 * Each record is indexed by what its card shows: the summary title and every field entered
 * (record-details.ts), so what a person can read is what they can find.
 */
import MiniSearch from 'minisearch';
import type { SectionName } from '../vault/app.ts';
import { SECTION_FORMS } from './forms/index.ts';
import { recordDetails } from './record-details.ts';
import { RECORD_SECTIONS } from './sections.ts';

/** Sections searched: every record section of the overview, and the symptom journal. */
export const SEARCHED_SECTIONS: readonly SectionName[] = [...RECORD_SECTIONS, 'list:journal'];

export interface SearchSource {
  list<S extends SectionName>(section: S): readonly unknown[];
}

export interface SearchHit {
  readonly section: SectionName;
  readonly sectionTitle: string;
  readonly id: string;
  readonly title: string;
  readonly subtitle?: string;
  /** The field that matched ("Reaction: Hives"), when it is not the title. */
  readonly match?: string;
}

interface Indexed {
  readonly key: string;
  readonly section: SectionName;
  readonly sectionTitle: string;
  readonly id: string;
  readonly title: string;
  readonly subtitle: string;
  readonly lines: readonly string[];
  readonly text: string;
}

/** An in-memory index of a profile's records. Build a new one when the records change. */
export class RecordSearch {
  private readonly index: MiniSearch<Indexed>;
  private readonly docs = new Map<string, Indexed>();

  constructor(source: SearchSource) {
    this.index = new MiniSearch<Indexed>({
      idField: 'key',
      fields: ['title', 'subtitle', 'text', 'sectionTitle'],
      searchOptions: { boost: { title: 3, subtitle: 1.5 }, prefix: true, fuzzy: 0.2, combineWith: 'AND' },
    });
    for (const section of SEARCHED_SECTIONS) {
      const form = SECTION_FORMS[section];
      for (const raw of source.list(section)) {
        const record = raw as Record<string, unknown>;
        if (typeof record.id !== 'string') continue;
        const summary = form.summary(record);
        const lines = recordDetails(section, record).map((d) => `${d.label}: ${d.value}`);
        const doc: Indexed = {
          key: `${section}\u0000${record.id}`,
          section,
          sectionTitle: form.title,
          id: record.id,
          title: summary.title,
          subtitle: summary.subtitle ?? '',
          lines,
          text: lines.join('\n'),
        };
        this.docs.set(doc.key, doc);
      }
    }
    this.index.addAll([...this.docs.values()]);
  }

  get size(): number {
    return this.docs.size;
  }

  /** Records matching every word of `query` (prefixes and small typos allowed), best first. */
  search(query: string, limit = 50): SearchHit[] {
    const q = query.trim();
    if (!q) return [];
    const terms = q.toLowerCase().split(/\s+/).filter(Boolean);
    return this.index
      .search(q)
      .slice(0, limit)
      .map((r) => {
        const doc = this.docs.get(r.id as string)!;
        const inTitle = terms.every((t) => doc.title.toLowerCase().includes(t));
        const match = inTitle ? undefined : doc.lines.find((l) => terms.some((t) => l.toLowerCase().includes(t)));
        return {
          section: doc.section,
          sectionTitle: doc.sectionTitle,
          id: doc.id,
          title: doc.title,
          ...(doc.subtitle ? { subtitle: doc.subtitle } : {}),
          ...(match ? { match } : {}),
        };
      });
  }
}
