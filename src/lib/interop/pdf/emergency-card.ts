/**
 * The emergency card as a PDF document definition (issue 12 item 4): the app's emergency card
 * read model, in the order a first responder reads it (who, allergies, alerts, conditions,
 * medicines, devices, blood and donor status, whom to call). Pure: the same card and date give
 * the same definition; rendering is render.ts.
 */
import type { Content, TDocumentDefinitions } from 'pdfmake/interfaces';
import { allergyNotes, type EmergencyCardContent } from './card-content.ts';
import { dayOf, document, facts, section, table } from './layout.ts';

const DONOR = { yes: 'Organ donor', no: 'Not an organ donor', limited: 'Organ donor (limited)', unknown: 'Organ donor status unknown' } as const;

const items = (list: readonly { text: string; detail?: string }[]): Content | undefined =>
  list.length ? { ul: list.map((i) => (i.detail ? { text: [i.text, { text: ` (${i.detail})`, style: 'muted' }] } : i.text)), margin: [0, 0, 0, 4] } : undefined;

/** `generated` is the day the PDF is made (YYYY-MM-DD), printed on it. */
export function emergencyCardDocument(card: EmergencyCardContent, generated: string): TDocumentDefinitions {
  const content: Content[] = [
    facts([
      ['Name', card.name || undefined],
      ['Born', card.birthDate ? `${dayOf(card.birthDate)}${card.ageText ? ` (${card.ageText})` : ''}` : undefined],
      ['Sex', card.gender],
      ['Blood type', card.bloodType],
    ]),
    ...section(
      'Allergies',
      table(
        ['Substance', 'Reactions', 'Severity', 'Notes'],
        card.allergies.map((a) => [
          { text: a.substance, bold: a.criticality === 'high' || a.severity === 'severe' },
          a.reactions.join(', '),
          a.severity === 'severe' ? { text: 'severe', style: 'flag' } : (a.severity ?? ''),
          a.criticality === 'high' ? { text: allergyNotes(a), style: 'flag' } : allergyNotes(a),
        ]),
        ['*', '*', 'auto', 'auto'],
      ),
    ),
    ...section('Alerts', items(card.alerts)),
    ...section('Conditions', items(card.conditions)),
    ...section(
      'Medications',
      table(
        ['Medicine', 'Dose', ''],
        card.medications.map((m) => [m.name, m.dose ?? '', m.asNeeded ? 'as needed' : '']),
        ['*', '*', 'auto'],
      ),
    ),
    ...section(
      'Devices and implants',
      items(card.devices.map((d) => ({ text: d.name, ...(d.detail || d.safety.length ? { detail: [d.detail, ...d.safety].filter(Boolean).join('; ') } : {}) }))),
    ),
  ];
  if (card.organDonor) content.push(...section('Organ donation', { text: `${DONOR[card.organDonor.status]}${card.organDonor.note ? `: ${card.organDonor.note}` : ''}` }));
  const contacts = card.contacts.map((c) => [c.name, c.relationship ?? '', c.phone ?? '']);
  if (card.primaryCare) contacts.push([card.primaryCare.name, card.primaryCare.role ?? 'Family doctor', card.primaryCare.phone ?? '']);
  content.push(...section('Emergency contacts', table(['Name', 'Relationship', 'Phone'], contacts, ['*', '*', 'auto'])));
  return document('Emergency card', content, `Generated ${generated} from the Family Health Vault. Not a medical record; confirm with the patient or their doctor.`);
}
