/** Forms for allergies, conditions, procedures, devices and alerts. */
import { ALLERGY_CLINICAL, ALLERGY_VERIFICATION, CONDITION_CLINICAL, CONDITION_VERIFICATION, SNOMED } from '../../vault/health.ts';
import {
  choice,
  codedChoice,
  codes,
  compact,
  concept,
  conceptList,
  date,
  defineForm,
  field,
  firstString,
  getIn,
  isRec,
  labelOf,
  notePart,
  opts,
  plain,
  referenceName,
  statusOf,
  str,
  text,
  type Rec,
} from './bind.ts';
import { toFhirDateTime as toFhirNow } from './dates.ts';
import type { SectionForm } from './types.ts';

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
const texts = (x: unknown): string[] => compact(list(x).map(text));

// ---- allergies ----------------------------------------------------------------------------------------

const ALLERGY_TYPE = opts(['allergy', 'Allergy'], ['intolerance', 'Intolerance']);
const ALLERGY_CATEGORY = opts(['food', 'Food'], ['medication', 'Medication'], ['environment', 'Environment'], ['biologic', 'Biologic (e.g. vaccine, blood)']);
const CRITICALITY = opts(['low', 'Low risk'], ['high', 'High risk'], ['unable-to-assess', 'Unable to assess']);
const ALLERGY_STATUS = opts(['active', 'Active'], ['inactive', 'Inactive'], ['resolved', 'Resolved']);
const ALLERGY_VERIFIED = opts(['unconfirmed', 'Suspected'], ['confirmed', 'Confirmed by a test or doctor'], ['refuted', 'Ruled out'], ['entered-in-error', 'Entered in error']);
const REACTION_SEVERITY = opts(['mild', 'Mild'], ['moderate', 'Moderate'], ['severe', 'Severe']);

export const allergiesForm: SectionForm = defineForm({
  section: 'allergies',
  title: 'Allergies',
  singular: 'allergy',
  resourceType: 'AllergyIntolerance',
  parts: [
    field({ name: 'substance', label: 'Substance', kind: 'text', required: true, placeholder: 'e.g. Penicillin, peanuts' }, ['code'], concept),
    field({ name: 'type', label: 'Type', kind: 'select', options: ALLERGY_TYPE }, ['type'], choice),
    field({ name: 'category', label: 'Category', kind: 'checkboxes', options: ALLERGY_CATEGORY }, ['category'], codes),
    field({ name: 'criticality', label: 'Risk of a severe reaction', kind: 'select', options: CRITICALITY }, ['criticality'], choice),
    field({ name: 'clinicalStatus', label: 'Status', kind: 'select', options: ALLERGY_STATUS }, ['clinicalStatus'], statusOf(ALLERGY_CLINICAL)),
    field({ name: 'verificationStatus', label: 'Certainty', kind: 'select', options: ALLERGY_VERIFIED }, ['verificationStatus'], statusOf(ALLERGY_VERIFICATION)),
    field({ name: 'onset', label: 'First noticed', kind: 'date' }, ['onsetDateTime'], date),
    field({ name: 'reactions', label: 'What happens', kind: 'tags', group: 'Reaction', placeholder: 'e.g. hives, swelling', paths: [['reaction', 0, 'manifestation'], ['reaction', 0]] }, ['reaction', 0, 'manifestation'], conceptList),
    field({ name: 'reactionSeverity', label: 'Severity', kind: 'select', group: 'Reaction', options: REACTION_SEVERITY }, ['reaction', 0, 'severity'], choice),
    field({ name: 'reactionDescription', label: 'Description', kind: 'textarea', group: 'Reaction' }, ['reaction', 0, 'description'], plain),
    notePart(),
  ],
  defaults: () => ({ clinicalStatus: 'active' }),
  complete(out, w) {
    if (!w.previous && out.recordedDate === undefined) w.put(['recordedDate'], toFhirNow(w.ctx.now));
  },
  summary(r) {
    const reactions = list(r.reaction).flatMap((x) => (isRec(x) ? texts(x.manifestation) : []));
    const status = str(getIn(r, ['clinicalStatus', 'coding', 0, 'code']));
    return {
      title: text(r.code) ?? 'Allergy',
      subtitle: reactions.length ? reactions.join(', ') : undefined,
      badges: compact([
        r.criticality === 'high' && 'High risk',
        ...list(r.category).map((c) => labelOf(ALLERGY_CATEGORY, c)),
        status !== 'active' && labelOf(ALLERGY_STATUS, status),
        getIn(r, ['verificationStatus', 'coding', 0, 'code']) === 'refuted' && 'Ruled out',
      ]),
      when: firstString(r.onsetDateTime, r.recordedDate),
    };
  },
});

// ---- conditions ----------------------------------------------------------------------------------------

const CONDITION_STATUS = opts(['active', 'Active'], ['recurrence', 'Came back'], ['relapse', 'Relapse'], ['inactive', 'Inactive'], ['remission', 'In remission'], ['resolved', 'Resolved']);
const CONDITION_VERIFIED = opts(['unconfirmed', 'Unconfirmed'], ['provisional', 'Provisional'], ['differential', 'One of several possibilities'], ['confirmed', 'Confirmed'], ['refuted', 'Ruled out'], ['entered-in-error', 'Entered in error']);
/** SNOMED CT severity codes (the FHIR condition-severity value set). */
const CONDITION_SEVERITY = opts(['255604002', 'Mild'], ['6736007', 'Moderate'], ['24484000', 'Severe']);

export const conditionsForm: SectionForm = defineForm({
  section: 'conditions',
  title: 'Conditions',
  singular: 'condition',
  resourceType: 'Condition',
  parts: [
    field({ name: 'condition', label: 'Condition', kind: 'text', required: true, placeholder: 'e.g. Asthma' }, ['code'], concept),
    field({ name: 'clinicalStatus', label: 'Status', kind: 'select', required: true, options: CONDITION_STATUS }, ['clinicalStatus'], statusOf(CONDITION_CLINICAL)),
    field({ name: 'verificationStatus', label: 'Certainty', kind: 'select', options: CONDITION_VERIFIED }, ['verificationStatus'], statusOf(CONDITION_VERIFICATION)),
    field({ name: 'severity', label: 'Severity', kind: 'select', options: CONDITION_SEVERITY }, ['severity'], codedChoice(CONDITION_SEVERITY, SNOMED)),
    field({ name: 'bodySite', label: 'Body site', kind: 'tags', placeholder: 'e.g. left knee' }, ['bodySite'], conceptList),
    field({ name: 'onset', label: 'Started', kind: 'date' }, ['onsetDateTime'], date),
    field({ name: 'abatement', label: 'Ended', kind: 'date' }, ['abatementDateTime'], date),
    notePart(),
  ],
  defaults: () => ({ clinicalStatus: 'active' }),
  complete(out, w) {
    if (!w.previous && out.recordedDate === undefined) w.put(['recordedDate'], toFhirNow(w.ctx.now));
  },
  summary(r) {
    const status = str(getIn(r, ['clinicalStatus', 'coding', 0, 'code']));
    return {
      title: text(r.code) ?? 'Condition',
      subtitle: text(r.severity),
      badges: compact([labelOf(CONDITION_STATUS, status), ...texts(r.bodySite)]),
      when: firstString(r.onsetDateTime, r.recordedDate),
    };
  },
});

// ---- procedures ----------------------------------------------------------------------------------------

const PROCEDURE_STATUS = opts(
  ['completed', 'Done'],
  ['preparation', 'Planned'],
  ['in-progress', 'In progress'],
  ['on-hold', 'On hold'],
  ['stopped', 'Stopped'],
  ['not-done', 'Not done'],
  ['entered-in-error', 'Entered in error'],
  ['unknown', 'Unknown'],
);

export const proceduresForm: SectionForm = defineForm({
  section: 'procedures',
  title: 'Procedures',
  singular: 'procedure',
  resourceType: 'Procedure',
  parts: [
    field({ name: 'procedure', label: 'Procedure', kind: 'text', required: true, placeholder: 'e.g. Appendectomy' }, ['code'], concept),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: PROCEDURE_STATUS }, ['status'], choice),
    field({ name: 'performed', label: 'Date', kind: 'date' }, ['performedDateTime'], date),
    field({ name: 'performer', label: 'Done by', kind: 'text' }, ['performer', 0, 'actor'], referenceName),
    field({ name: 'location', label: 'Where', kind: 'text', placeholder: 'Hospital or clinic' }, ['location'], referenceName),
    field({ name: 'reason', label: 'Reason', kind: 'tags' }, ['reasonCode'], conceptList),
    field({ name: 'bodySite', label: 'Body site', kind: 'tags' }, ['bodySite'], conceptList),
    field({ name: 'outcome', label: 'Outcome', kind: 'text' }, ['outcome'], concept),
    notePart(),
  ],
  defaults: () => ({ status: 'completed' }),
  summary: (r) => ({
    title: text(r.code) ?? 'Procedure',
    subtitle: compact([str(getIn(r, ['performer', 0, 'actor', 'display'])), str(getIn(r, ['location', 'display']))]).join(' · ') || undefined,
    badges: compact([r.status !== 'completed' && labelOf(PROCEDURE_STATUS, r.status)]),
    when: firstString(r.performedDateTime, getIn(r, ['performedPeriod', 'start'])),
  }),
});

// ---- devices ----------------------------------------------------------------------------------------

const DEVICE_STATUS = opts(['active', 'In use'], ['inactive', 'No longer in use'], ['entered-in-error', 'Entered in error'], ['unknown', 'Unknown']);

export const devicesForm: SectionForm = defineForm({
  section: 'devices',
  title: 'Devices and implants',
  singular: 'device',
  resourceType: 'Device',
  parts: [
    field({ name: 'device', label: 'Device', kind: 'text', required: true, placeholder: 'e.g. Pacemaker, insulin pump' }, ['type'], concept),
    field({ name: 'status', label: 'Status', kind: 'select', options: DEVICE_STATUS }, ['status'], choice),
    field({ name: 'name', label: 'Product name', kind: 'text' }, ['deviceName', 0], {
      read: (x) => (isRec(x) ? str(x.name) : ''),
      write(v, old) {
        const name = typeof v === 'string' ? v.trim() : '';
        if (!name) return undefined;
        return { type: 'user-friendly-name', ...(isRec(old) ? old : {}), name };
      },
    }),
    field({ name: 'manufacturer', label: 'Manufacturer', kind: 'text' }, ['manufacturer'], plain),
    field({ name: 'modelNumber', label: 'Model number', kind: 'text' }, ['modelNumber'], plain),
    field({ name: 'serialNumber', label: 'Serial number', kind: 'text' }, ['serialNumber'], plain),
    field({ name: 'lotNumber', label: 'Lot number', kind: 'text' }, ['lotNumber'], plain),
    field({ name: 'udi', label: 'UDI (as printed on the implant card)', kind: 'text' }, ['udiCarrier', 0, 'carrierHRF'], plain),
    field({ name: 'manufactured', label: 'Manufactured', kind: 'date' }, ['manufactureDate'], date),
    field({ name: 'expires', label: 'Expires', kind: 'date' }, ['expirationDate'], date),
    field({ name: 'safety', label: 'Safety notes', kind: 'tags', placeholder: 'e.g. MR conditional', help: 'Shown on the emergency card.' }, ['safety'], conceptList),
    notePart(),
  ],
  defaults: () => ({ status: 'active' }),
  summary: (r) => ({
    title: text(r.type) ?? 'Device',
    subtitle: compact([str(getIn(r, ['deviceName', 0, 'name'])), str(r.manufacturer)]).join(' · ') || undefined,
    badges: compact([...texts(r.safety), r.status !== undefined && r.status !== 'active' && labelOf(DEVICE_STATUS, r.status)]),
    when: firstString(r.manufactureDate),
  }),
});

// ---- alerts ----------------------------------------------------------------------------------------

const FLAG_STATUS = opts(['active', 'Active'], ['inactive', 'Inactive'], ['entered-in-error', 'Entered in error']);

export const alertsForm: SectionForm = defineForm({
  section: 'alerts',
  title: 'Alerts',
  singular: 'alert',
  resourceType: 'Flag',
  parts: [
    field({ name: 'alert', label: 'Alert', kind: 'text', required: true, placeholder: 'e.g. On blood thinners' }, ['code'], concept),
    field({ name: 'status', label: 'Status', kind: 'select', required: true, options: FLAG_STATUS }, ['status'], choice),
    field({ name: 'category', label: 'Category', kind: 'tags', placeholder: 'e.g. medication, safety' }, ['category'], conceptList),
    field({ name: 'start', label: 'From', kind: 'date', group: 'Applies' }, ['period', 'start'], date),
    field({ name: 'end', label: 'Until', kind: 'date', group: 'Applies' }, ['period', 'end'], date),
  ],
  defaults: () => ({ status: 'active' }),
  summary: (r: Rec) => ({
    title: text(r.code) ?? 'Alert',
    badges: compact([r.status !== 'active' && labelOf(FLAG_STATUS, r.status), ...texts(r.category)]),
    when: firstString(getIn(r, ['period', 'start'])),
  }),
});
