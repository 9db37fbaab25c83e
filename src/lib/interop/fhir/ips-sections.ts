/**
 * The IPS 2.0 Composition sections this vault fills (docs/decisions/0030), in document order:
 * the three required ones first, then the optional ones that appear only when the profile has
 * data for them. Each picks its entries from the exported resource set.
 */
import { ACTIVE_CONDITION_STATUSES, LOINC } from '../../../../crdt-schemas/health/index.ts';
import type { ExportedEntry } from './export-set.ts';
import { instantOf, type Json } from './export-source.ts';

export interface IpsSectionSpec {
  readonly key: string;
  readonly title: string;
  /** LOINC section code (IPS 2.0). */
  readonly code: string;
  readonly display: string;
  /** Required by IPS: present always, with entries or an emptyReason. */
  readonly required: boolean;
  /** The entries of this section, from every exported entry. */
  readonly pick: (entries: readonly ExportedEntry[]) => ExportedEntry[];
}

const from = (section: ExportedEntry['section']) => (entries: readonly ExportedEntry[]) => entries.filter((e) => e.section === section && current(e.resource));

/** Records marked entered-in-error are not part of a summary. */
function current(r: Json): boolean {
  const verification = (r.verificationStatus as { coding?: { code?: string }[] } | undefined)?.coding?.[0]?.code;
  return r.status !== 'entered-in-error' && verification !== 'entered-in-error' && verification !== 'refuted';
}

const clinicalStatus = (e: ExportedEntry) => (e.resource.clinicalStatus as { coding: { code: string }[] }).coding[0]!.code;
const isActive = (e: ExportedEntry) => (ACTIVE_CONDITION_STATUSES as readonly string[]).includes(clinicalStatus(e));

/** The latest reading of each kind (by LOINC code, else by text): a summary, not the log. */
function latestVitals(entries: readonly ExportedEntry[]): ExportedEntry[] {
  const latest = new Map<string, ExportedEntry>();
  for (const e of from('list:vitals')(entries)) {
    const code = e.resource.code as { text: string; coding?: { system?: string; code?: string }[] };
    const key = code.coding?.find((c) => c.system === LOINC)?.code ?? code.text;
    const seen = latest.get(key);
    if (!seen || instantOf(e.resource.effectiveDateTime) >= instantOf(seen.resource.effectiveDateTime)) latest.set(key, e);
  }
  return [...latest.values()];
}

export const IPS_SECTIONS: readonly IpsSectionSpec[] = [
  { key: 'problems', title: 'Problem List', code: '11450-4', display: 'Problem list - Reported', required: true, pick: (all) => from('conditions')(all).filter(isActive) },
  { key: 'allergies', title: 'Allergies and Intolerances', code: '48765-2', display: 'Allergies and adverse reactions Document', required: true, pick: from('allergies') },
  { key: 'medications', title: 'Medication Summary', code: '10160-0', display: 'History of Medication use Narrative', required: true, pick: from('medications') },
  { key: 'immunizations', title: 'Immunizations', code: '11369-6', display: 'History of Immunization Narrative', required: false, pick: from('immunizations') },
  {
    key: 'results',
    title: 'Results',
    code: '30954-2',
    display: 'Relevant diagnostic tests/laboratory data Narrative',
    required: false,
    // Lab results and the blood group (an ABO/Rh lab Observation); donor status is not a result.
    // Reports that group results come first (decision 0037); their results are entries too.
    pick: (all) => [...from('diagnostic-reports')(all), ...from('lab-results')(all), ...from('blood-donor')(all).filter((e) => (e.resource.category as unknown[] | undefined) !== undefined)],
  },
  { key: 'vital-signs', title: 'Vital Signs', code: '8716-3', display: 'Vital signs', required: false, pick: latestVitals },
  { key: 'procedures', title: 'History of Procedures', code: '47519-4', display: 'History of Procedures Document', required: false, pick: from('procedures') },
  { key: 'devices', title: 'Medical Devices', code: '46264-8', display: 'History of medical device use', required: false, pick: from('devices') },
  { key: 'past-illness', title: 'History of Past Illness', code: '11348-0', display: 'History of Past illness Narrative', required: false, pick: (all) => from('conditions')(all).filter((e) => !isActive(e)) },
  { key: 'alerts', title: 'Alerts', code: '104605-1', display: 'Alert', required: false, pick: (all) => from('alerts')(all).filter((e) => e.resource.status === 'active') },
  // Directives in force (decision 0037); drafts, refused and withdrawn ones are not part of a summary.
  { key: 'advance-directives', title: 'Advance Directives', code: '42348-3', display: 'Advance directives', required: false, pick: (all) => from('advance-directives')(all).filter((e) => e.resource.status === 'active') },
];
