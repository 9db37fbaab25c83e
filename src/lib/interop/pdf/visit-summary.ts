/**
 * The visit summary for a clinician (issue 12 item 4) as a PDF document definition: who, then
 * current problems, allergies (severity and reactions), medications (dose and schedule), recent
 * vitals and labs with their trend (latest, previous, direction; out of range flagged) and
 * immunizations. Pure: what counts as current comes from the emergency card read model, trends
 * from the trend read model; the same input gives the same definition.
 */
import type { Content, TDocumentDefinitions } from 'pdfmake/interfaces';
import type { ImmunizationRecord, MedicationStatementRecord } from '../../../../crdt-schemas/health/index.ts';
import { allergyNotes, type EmergencyCardContent } from './card-content.ts';
import { dayOf, document, facts, section, table } from './layout.ts';
import { scheduleText } from './schedule-text.ts';
import { trendRows, type TrendGroupContent, type TrendRow } from './trend-rows.ts';

export interface VisitSummaryInput {
  /** Person, current problems, allergies and medicines, as the emergency card decides them. */
  readonly card: EmergencyCardContent;
  /** The medication records, for the structured schedule of each current medicine (by id). */
  readonly medications: readonly Pick<MedicationStatementRecord, 'id' | 'dosage'>[];
  readonly immunizations: readonly ImmunizationRecord[];
  readonly vitals: readonly TrendGroupContent[];
  readonly labs: readonly TrendGroupContent[];
}

function trendTable(rows: readonly TrendRow[]): Content | undefined {
  return table(
    ['Measure', 'Latest', 'Date', 'Previous', 'Trend', 'Range'],
    rows.map((r) => [
      r.title,
      r.outOfRange ? { text: `${r.latest} ${r.unit} ${r.outOfRange.toUpperCase()}`, style: 'flag' } : `${r.latest} ${r.unit}`,
      r.latestOn,
      r.previous === undefined ? '—' : `${r.previous} ${r.unit}`,
      r.direction,
      r.range ?? '',
    ]),
    ['*', 'auto', 'auto', 'auto', 'auto', 'auto'],
  );
}

function immunizationRows(list: readonly ImmunizationRecord[]) {
  return list
    .filter((i) => i.status !== 'entered-in-error')
    .sort((a, b) => b.occurrenceDateTime.localeCompare(a.occurrenceDateTime) || a.vaccineCode.text.localeCompare(b.vaccineCode.text))
    .map((i) => {
      const dose = i.protocolApplied?.find((p) => p.doseNumberPositiveInt !== undefined);
      const doseText = dose ? `dose ${dose.doseNumberPositiveInt}${dose.seriesDosesPositiveInt ? ` of ${dose.seriesDosesPositiveInt}` : ''}` : '';
      return [i.vaccineCode.text, dayOf(i.occurrenceDateTime), i.status === 'not-done' ? 'not done' : doseText, i.lotNumber ?? ''];
    });
}

/** `generated` is the day the PDF is made (YYYY-MM-DD), printed on it. */
export function visitSummaryDocument(input: VisitSummaryInput, generated: string): TDocumentDefinitions {
  const { card } = input;
  const schedules = new Map(input.medications.map((m) => [m.id, scheduleText(m)]));
  const content: Content[] = [
    facts([
      ['Name', card.name || undefined],
      ['Born', card.birthDate ? dayOf(card.birthDate) : undefined],
      ['Sex', card.gender],
      ['Generated', generated],
    ]),
    ...section(
      'Current problems',
      table(
        ['Problem', 'Detail'],
        card.conditions.map((c) => [c.text, c.detail ?? '']),
        ['*', '*'],
      ),
    ),
    ...section(
      'Allergies and intolerances',
      table(
        ['Substance', 'Reactions', 'Severity', 'Notes'],
        card.allergies.map((a) => [
          a.substance,
          a.reactions.join(', '),
          a.severity === 'severe' ? { text: 'severe', style: 'flag' } : (a.severity ?? 'not recorded'),
          a.criticality === 'high' ? { text: allergyNotes(a), style: 'flag' } : allergyNotes(a),
        ]),
        ['*', '*', 'auto', 'auto'],
      ),
    ),
    ...section(
      'Medications',
      table(
        ['Medicine', 'Dose', 'Schedule'],
        card.medications.map((m) => [m.name, m.dose ?? '', schedules.get(m.id) || (m.asNeeded ? 'as needed' : '')]),
        ['*', '*', '*'],
      ),
    ),
    ...section('Vital signs', trendTable(trendRows(input.vitals))),
    ...section('Laboratory results', trendTable(trendRows(input.labs))),
    ...section('Immunizations', table(['Vaccine', 'Date', 'Dose', 'Lot'], immunizationRows(input.immunizations), ['*', 'auto', 'auto', 'auto'])),
  ];
  return document('Visit summary', content, `Generated ${generated} from the Family Health Vault from records kept by the family; verify before acting.`);
}
