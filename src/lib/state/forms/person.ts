/** Forms for demographics, blood type and donor status, the care team, visits, immunizations and documents. */
import { BLOOD_RECORD_ID, ENCOUNTER_CLASS, PATIENT_RECORD_ID } from '../../vault/health.ts';
import {
  asString,
  choice,
  compact,
  concept,
  conceptList,
  date,
  dateTime,
  defineForm,
  field,
  firstString,
  flag,
  getIn,
  humanName,
  isRec,
  labelOf,
  notePart,
  number,
  opts,
  plain,
  referenceName,
  str,
  telecom,
  text,
  type Codec,
  type Part,
} from './bind.ts';
import { toFhirDateTime } from './dates.ts';
import type { SectionForm } from './types.ts';

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);

/** The first Concept of a list, by its text (further entries kept). */
const firstConcept = (path: (string | number)[]) => [...path, 0];

/** A free-text address; a changed text drops the parsed lines, city and postcode. */
const addressText: Codec = {
  read: (x) => text(x) ?? '',
  write(v, old) {
    const t = asString(v).trim();
    if (!t) return undefined;
    if (text(old) === t) return old;
    const { text: _t, line: _l, city: _c, postalCode: _p, country: _k, ...rest } = isRec(old) ? old : {};
    return { ...rest, text: t };
  },
};

// ---- demographics ----------------------------------------------------------------------------------------

const GENDER = opts(['female', 'Female'], ['male', 'Male'], ['other', 'Other'], ['unknown', 'Unknown']);
const CONTACTS = 2;

/** Emergency contact `i` (0-based): name, relationship and phone, in a fieldset of its own. */
function contactParts(i: number): Part[] {
  const group = CONTACTS > 1 ? `Emergency contact ${i + 1}` : 'Emergency contact';
  const at = (...rest: (string | number)[]) => ['contact', i, ...rest];
  return [
    field({ name: `contact${i + 1}Name`, label: 'Name', kind: 'text', group, paths: [at('name'), at()] }, at('name'), humanName),
    field({ name: `contact${i + 1}Relationship`, label: 'Relationship', kind: 'text', group, placeholder: 'e.g. Mother, neighbour', paths: [at('relationship')] }, at('relationship', 0), concept),
    field({ name: `contact${i + 1}Phone`, label: 'Phone', kind: 'text', group, autocomplete: 'off' }, at('telecom'), telecom('phone')),
  ];
}

export const demographicsForm: SectionForm = defineForm({
  section: 'demographics',
  title: 'Personal details',
  singular: 'personal details',
  resourceType: 'Patient',
  fixedId: PATIENT_RECORD_ID,
  parts: [
    field({ name: 'name', label: 'Full name', kind: 'text', required: true, paths: [['name', 0], ['name']] }, ['name', 0], humanName),
    field({ name: 'birthDate', label: 'Date of birth', kind: 'date' }, ['birthDate'], date),
    field({ name: 'gender', label: 'Gender', kind: 'select', options: GENDER }, ['gender'], choice),
    field({ name: 'language', label: 'Preferred language', kind: 'text' }, ['communication', 0, 'language'], concept),
    field({ name: 'phone', label: 'Phone', kind: 'text' }, ['telecom'], telecom('phone')),
    field({ name: 'email', label: 'Email', kind: 'text' }, ['telecom'], telecom('email')),
    field({ name: 'address', label: 'Address', kind: 'textarea' }, ['address', 0], addressText),
    ...Array.from({ length: CONTACTS }, (_, i) => contactParts(i)).flat(),
  ],
  summary(r) {
    const contacts = list(r.contact).length;
    return {
      title: text(getIn(r, ['name', 0])) ?? 'Personal details',
      subtitle: compact([str(r.birthDate) && `Born ${str(r.birthDate)}`, labelOf(GENDER, r.gender)]).join(' · ') || undefined,
      badges: compact([contacts > 0 && `${contacts} emergency contact${contacts > 1 ? 's' : ''}`]),
    };
  },
});

// ---- blood type and donor ----------------------------------------------------------------------------------------

const ABO = opts(['A', 'A'], ['B', 'B'], ['AB', 'AB'], ['O', 'O']);
const RH = opts(['positive', 'Rh positive (+)'], ['negative', 'Rh negative (−)']);
const DONOR = opts(['yes', 'Yes'], ['no', 'No'], ['limited', 'Some organs only'], ['unknown', 'Not decided / unknown']);

export const bloodDonorForm: SectionForm = defineForm({
  section: 'blood-donor',
  title: 'Blood type and organ donation',
  singular: 'blood type and donor status',
  fixedId: BLOOD_RECORD_ID,
  parts: [
    field({ name: 'abo', label: 'Blood group', kind: 'select', options: ABO, group: 'Blood type' }, ['abo'], choice),
    field({ name: 'rh', label: 'Rhesus factor', kind: 'select', options: RH, group: 'Blood type' }, ['rh'], choice),
    field({ name: 'bloodGroup', label: 'As written on the card', kind: 'text', group: 'Blood type', placeholder: 'e.g. A Rh+' }, ['bloodGroup'], concept),
    field({ name: 'organDonor', label: 'Organ donor', kind: 'select', required: true, options: DONOR, group: 'Organ donation' }, ['organDonor'], choice),
    field({ name: 'organDonorNote', label: 'Details', kind: 'textarea', group: 'Organ donation', help: 'e.g. registry, card number, which organs' }, ['organDonorNote'], plain),
  ],
  defaults: () => ({ organDonor: 'unknown' }),
  complete(out, w) {
    if (!w.previous && out.recordedDate === undefined) w.put(['recordedDate'], toFhirDateTime(w.ctx.now));
  },
  summary(r) {
    const rh = r.rh === 'positive' ? '+' : r.rh === 'negative' ? '−' : '';
    const group = r.abo ? `${str(r.abo)}${rh}` : text(r.bloodGroup);
    return {
      title: group ? `Blood type ${group}` : 'Blood type unknown',
      subtitle: `Organ donor: ${labelOf(DONOR, r.organDonor) ?? 'unknown'}`,
      when: firstString(r.recordedDate),
    };
  },
});

// ---- care team ----------------------------------------------------------------------------------------

/**
 * The care team holds people (Practitioner) and places (Organization, Location: docs/decisions/0037).
 * A place's name is a plain string, a person's a HumanName; the name field edits either, and a
 * new member is a Practitioner.
 */
const careTeamName: Part = {
  fields: [{ name: 'name', label: 'Name', kind: 'text', required: true, paths: [['name', 0], ['name']] }],
  read: (r) => ({ name: typeof r.name === 'string' ? r.name : (text(getIn(r, ['name', 0])) ?? '') }),
  write(values, w) {
    const place = w.get(['resourceType']) === 'Organization' || w.get(['resourceType']) === 'Location';
    const t = typeof values.name === 'string' ? values.name.trim() : '';
    if (place) w.put(['name'], t || undefined);
    else w.put(['name', 0], humanName.write(t, w.get(['name', 0]), w));
  },
};

/** A Location has one address (FHIR Location.address 0..1); people and organizations a list. */
const careTeamAddress: Part = {
  fields: [{ name: 'address', label: 'Practice address', kind: 'textarea', paths: [['address', 0], ['address']] }],
  read: (r) => ({ address: addressText.read(Array.isArray(r.address) ? r.address[0] : r.address) }),
  write(values, w) {
    const path = w.get(['resourceType']) === 'Location' ? ['address'] : ['address', 0];
    w.put(path, addressText.write(values.address ?? '', w.get(path), w));
  },
};

export const careTeamForm: SectionForm = defineForm({
  section: 'care-team',
  title: 'Care team',
  singular: 'care team member',
  parts: [
    careTeamName,
    field({ name: 'role', label: 'Role or speciality', kind: 'text', placeholder: 'e.g. Family doctor, cardiologist' }, ['qualification', 0, 'code'], concept),
    field({ name: 'phone', label: 'Phone', kind: 'text' }, ['telecom'], telecom('phone')),
    field({ name: 'email', label: 'Email', kind: 'text' }, ['telecom'], telecom('email')),
    careTeamAddress,
    field({ name: 'active', label: 'Currently part of the care team', kind: 'checkbox' }, ['active'], flag),
  ],
  defaults: () => ({ active: true }),
  complete: (out) => {
    out.resourceType ??= 'Practitioner';
  },
  summary: (r) => ({
    title: (typeof r.name === 'string' ? r.name : text(getIn(r, ['name', 0]))) ?? 'Care team member',
    subtitle: r.resourceType === 'Organization' ? 'Organization' : r.resourceType === 'Location' ? 'Place of care' : text(getIn(r, ['qualification', 0, 'code'])),
    badges: compact([(r.active === false || r.status === 'inactive') && 'Former']),
  }),
});

// ---- visits ----------------------------------------------------------------------------------------

const ENCOUNTER_STATUS = opts(['finished', 'Happened'], ['planned', 'Planned'], ['in-progress', 'Ongoing'], ['cancelled', 'Cancelled'], ['arrived', 'Arrived'], ['triaged', 'Triaged'], ['onleave', 'On leave'], ['entered-in-error', 'Entered in error'], ['unknown', 'Unknown']);
const ENCOUNTER_KIND = opts(['AMB', 'Office or clinic'], ['EMER', 'Emergency'], ['IMP', 'Hospital stay'], ['SS', 'Day surgery / short stay'], ['OBSENC', 'Observation'], ['HH', 'Home visit'], ['VR', 'Video or phone']);

export const visitsForm: SectionForm = defineForm({
  section: 'visits',
  title: 'Visits',
  singular: 'visit',
  resourceType: 'Encounter',
  parts: [
    field({ name: 'type', label: 'Visit', kind: 'text', required: true, placeholder: 'e.g. Annual check-up', paths: [['type', 0], ['type']] }, firstConcept(['type']), concept),
    field({ name: 'class', label: 'Kind of visit', kind: 'select', required: true, options: ENCOUNTER_KIND, paths: [['class']] }, ['class'], {
      read: (x) => (isRec(x) ? str(x.code) : ''),
      write(v, old) {
        const code = asString(v);
        if (!code) return undefined;
        const { code: _c, display: _d, ...rest } = isRec(old) ? old : {};
        return { ...rest, system: ENCOUNTER_CLASS, code };
      },
    }),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: ENCOUNTER_STATUS }, ['status'], choice),
    field({ name: 'start', label: 'Start', kind: 'datetime', group: 'When' }, ['period', 'start'], dateTime),
    field({ name: 'end', label: 'End', kind: 'datetime', group: 'When' }, ['period', 'end'], dateTime),
    field({ name: 'seenBy', label: 'Seen by', kind: 'text' }, ['participant', 0, 'individual'], referenceName),
    field({ name: 'provider', label: 'Clinic or hospital', kind: 'text' }, ['serviceProvider'], referenceName),
    field({ name: 'location', label: 'Location', kind: 'text' }, ['location', 0, 'location'], referenceName),
    field({ name: 'reason', label: 'Reason', kind: 'tags' }, ['reasonCode'], conceptList),
  ],
  defaults: () => ({ class: 'AMB', status: 'finished' }),
  summary: (r) => ({
    title: text(getIn(r, ['type', 0])) ?? 'Visit',
    subtitle: compact([str(getIn(r, ['participant', 0, 'individual', 'display'])), str(getIn(r, ['serviceProvider', 'display']))]).join(' · ') || undefined,
    badges: compact([labelOf(ENCOUNTER_KIND, getIn(r, ['class', 'code'])), r.status !== 'finished' && labelOf(ENCOUNTER_STATUS, r.status)]),
    when: firstString(getIn(r, ['period', 'start']), getIn(r, ['period', 'end'])),
  }),
});

// ---- immunizations ----------------------------------------------------------------------------------------

const IMMUNIZATION_STATUS = opts(['completed', 'Given'], ['not-done', 'Not given'], ['entered-in-error', 'Entered in error']);

export const immunizationsForm: SectionForm = defineForm({
  section: 'immunizations',
  title: 'Immunizations',
  singular: 'immunization',
  resourceType: 'Immunization',
  parts: [
    field({ name: 'vaccine', label: 'Vaccine', kind: 'text', required: true, placeholder: 'e.g. MMR, Influenza' }, ['vaccineCode'], concept),
    field({ name: 'date', label: 'Date', kind: 'date', required: true }, ['occurrenceDateTime'], date),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: IMMUNIZATION_STATUS }, ['status'], choice),
    field({ name: 'doseNumber', label: 'Dose number', kind: 'number', min: 1, step: 1, group: 'Series' }, ['protocolApplied', 0, 'doseNumberPositiveInt'], number),
    field({ name: 'seriesDoses', label: 'Of (doses in the series)', kind: 'number', min: 1, step: 1, group: 'Series' }, ['protocolApplied', 0, 'seriesDosesPositiveInt'], number),
    field({ name: 'lotNumber', label: 'Lot number', kind: 'text' }, ['lotNumber'], plain),
    field({ name: 'expirationDate', label: 'Vaccine expiry date', kind: 'date' }, ['expirationDate'], date),
    field({ name: 'site', label: 'Where on the body', kind: 'text', placeholder: 'e.g. left arm' }, ['site'], concept),
    field({ name: 'route', label: 'Route', kind: 'text', placeholder: 'e.g. injection, oral' }, ['route'], concept),
    field({ name: 'performer', label: 'Given by', kind: 'text' }, ['performer', 0, 'actor'], referenceName),
    notePart(),
  ],
  defaults: () => ({ status: 'completed' }),
  summary(r) {
    const dose = getIn(r, ['protocolApplied', 0, 'doseNumberPositiveInt']);
    const of = getIn(r, ['protocolApplied', 0, 'seriesDosesPositiveInt']);
    return {
      title: text(r.vaccineCode) ?? 'Immunization',
      subtitle: typeof dose === 'number' ? `Dose ${dose}${typeof of === 'number' ? ` of ${of}` : ''}` : undefined,
      badges: compact([r.status !== 'completed' && labelOf(IMMUNIZATION_STATUS, r.status)]),
      when: firstString(r.occurrenceDateTime),
    };
  },
});

// ---- documents ----------------------------------------------------------------------------------------

const DOCUMENT_STATUS = opts(['current', 'Current'], ['superseded', 'Replaced by a newer one'], ['entered-in-error', 'Entered in error']);

/**
 * A document's metadata. The file itself (content type, size, hash) comes from the upload that
 * created the record: pass that record as `previous`; the form edits only the title and the rest.
 */
export const documentsForm: SectionForm = defineForm({
  section: 'documents',
  title: 'Documents',
  singular: 'document',
  resourceType: 'DocumentReference',
  parts: [
    field({ name: 'title', label: 'Title', kind: 'text', required: true, paths: [['content', 0, 'attachment', 'title']] }, ['content', 0, 'attachment', 'title'], plain),
    field({ name: 'type', label: 'Kind of document', kind: 'text', placeholder: 'e.g. Discharge letter, X-ray report' }, ['type'], concept),
    field({ name: 'category', label: 'Category', kind: 'tags' }, ['category'], conceptList),
    field({ name: 'date', label: 'Document date', kind: 'datetime' }, ['date'], dateTime),
    field({ name: 'description', label: 'Description', kind: 'textarea' }, ['description'], plain),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: DOCUMENT_STATUS }, ['status'], choice),
  ],
  defaults: () => ({ status: 'current' }),
  issueMessages: [{ path: ['content'], message: 'Attach a file first' }],
  summary(r) {
    const attachment = getIn(r, ['content', 0, 'attachment']);
    return {
      title: str(getIn(attachment, ['title'])) || 'Document',
      subtitle: text(r.type) ?? (str(r.description) || undefined),
      badges: compact([r.status !== 'current' && labelOf(DOCUMENT_STATUS, r.status), ...list(r.category).map(text)]),
      when: firstString(r.date, getIn(attachment, ['creation'])),
    };
  },
});
