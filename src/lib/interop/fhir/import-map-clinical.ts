/** Clinical resources into their sections' record shapes (docs/decisions/0029). */
import { ALLERGY_CLINICAL, ALLERGY_VERIFICATION } from '../../../../crdt-schemas/health/allergy.ts';
import { CONDITION_CLINICAL, CONDITION_VERIFICATION } from '../../../../crdt-schemas/health/condition.ts';
import { profileReference, type MapContext } from './import-context.ts';
import { annotations, arr, bool, clean, concept, concepts, dateTimeOf, isObject, num, objects, oneOf, period, quantity, statusConcept, str, type Json } from './import-values.ts';

export function mapAllergy(r: Json, _ctx: MapContext): Json {
  return clean({
    resourceType: 'AllergyIntolerance',
    clinicalStatus: statusConcept(r.clinicalStatus, ALLERGY_CLINICAL),
    verificationStatus: statusConcept(r.verificationStatus, ALLERGY_VERIFICATION),
    type: oneOf(r.type, ['allergy', 'intolerance']),
    category: arr(r.category).filter((c) => oneOf(c, ['food', 'medication', 'environment', 'biologic'])),
    criticality: oneOf(r.criticality, ['low', 'high', 'unable-to-assess']),
    code: concept(r.code),
    onsetDateTime: dateTimeOf(r, 'onset'),
    recordedDate: str(r.recordedDate),
    reaction: objects(r.reaction)
      .map((x) => clean({ manifestation: concepts(x.manifestation), severity: oneOf(x.severity, ['mild', 'moderate', 'severe']), description: str(x.description) }))
      .filter((x) => Array.isArray(x.manifestation)),
    note: annotations(r.note),
  });
}

export function mapCondition(r: Json): Json {
  return clean({
    resourceType: 'Condition',
    clinicalStatus: statusConcept(r.clinicalStatus, CONDITION_CLINICAL),
    verificationStatus: statusConcept(r.verificationStatus, CONDITION_VERIFICATION),
    code: concept(r.code),
    severity: concept(r.severity),
    bodySite: concepts(r.bodySite),
    onsetDateTime: dateTimeOf(r, 'onset'),
    abatementDateTime: dateTimeOf(r, 'abatement'),
    recordedDate: str(r.recordedDate),
    note: annotations(r.note),
  });
}

const REQUEST_STATUS: Readonly<Record<string, string>> = {
  active: 'active', 'on-hold': 'on-hold', cancelled: 'stopped', completed: 'completed', 'entered-in-error': 'entered-in-error', stopped: 'stopped', draft: 'intended', unknown: 'unknown',
};

/**
 * A MedicationStatement, or a MedicationRequest read as one, with the medicine's name and codes
 * from medicationCodeableConcept or the referenced (contained or bundled) Medication.
 */
export function mapMedication(r: Json, ctx: MapContext): Json | 'broken' {
  let medicine = concept(r.medicationCodeableConcept);
  if (!medicine && isObject(r.medicationReference)) {
    const target = ctx.index.resolve(r.medicationReference, r);
    const fromTarget = target.kind === 'found' ? concept(target.resource.code) : undefined;
    const display = str(r.medicationReference.display);
    medicine = fromTarget ?? (display ? { text: display } : undefined);
    if (!medicine && target.kind !== 'none') return 'broken';
  }
  const request = r.resourceType === 'MedicationRequest';
  const effective = request ? (str(r.authoredOn) ? { start: r.authoredOn } : undefined) : (period(r.effectivePeriod) ?? (str(r.effectiveDateTime) ? { start: r.effectiveDateTime } : undefined));
  return clean({
    resourceType: 'MedicationStatement',
    status: request ? REQUEST_STATUS[r.status as string] : str(r.status),
    medicationCodeableConcept: medicine,
    effectivePeriod: effective,
    dosage: objects(request ? r.dosageInstruction : r.dosage).map(dosageOf),
    reasonCode: concepts(r.reasonCode),
    note: annotations(r.note),
  });
}

function dosageOf(d: Json): Json {
  const repeat = isObject(d.timing) && isObject(d.timing.repeat) ? d.timing.repeat : undefined;
  const timing = repeat
    ? {
        repeat: clean({
          frequency: num(repeat.frequency),
          period: num(repeat.period),
          periodUnit: str(repeat.periodUnit),
          timeOfDay: arr(repeat.timeOfDay).filter((t) => typeof t === 'string'),
          when: arr(repeat.when).filter((t) => typeof t === 'string'),
          dayOfWeek: arr(repeat.dayOfWeek).filter((t) => typeof t === 'string'),
          boundsPeriod: period(repeat.boundsPeriod),
        }),
      }
    : undefined;
  const described = repeat && num(repeat.frequency) !== undefined ? `${repeat.frequency as number} time(s) every ${num(repeat.period) ?? 1} ${str(repeat.periodUnit) ?? 'd'}` : undefined;
  return clean({
    // The schema keeps the human-readable text always; a coded-only dosage gets one built from its timing.
    text: str(d.text) ?? str(d.patientInstruction) ?? described ?? 'As directed',
    timing,
    asNeededBoolean: bool(d.asNeededBoolean),
    route: concept(d.route),
    doseAndRate: objects(d.doseAndRate)
      .map((x) => clean({ doseQuantity: quantity(x.doseQuantity) }))
      .filter((x) => x.doseQuantity !== undefined),
  });
}

export function mapImmunization(r: Json, ctx: MapContext): Json {
  return clean({
    resourceType: 'Immunization',
    status: str(r.status),
    vaccineCode: concept(r.vaccineCode),
    occurrenceDateTime: str(r.occurrenceDateTime),
    lotNumber: str(r.lotNumber),
    expirationDate: str(r.expirationDate),
    site: concept(r.site),
    route: concept(r.route),
    doseQuantity: quantity(r.doseQuantity),
    performer: references(objects(r.performer).map((p) => p.actor), r, ctx).map((actor) => ({ actor })),
    protocolApplied: objects(r.protocolApplied)
      .map((p) => clean({ doseNumberPositiveInt: num(p.doseNumberPositiveInt), seriesDosesPositiveInt: num(p.seriesDosesPositiveInt) }))
      .filter((p) => Object.keys(p).length > 0),
    note: annotations(r.note),
  });
}

export function mapProcedure(r: Json, ctx: MapContext): Json {
  return clean({
    resourceType: 'Procedure',
    status: str(r.status),
    code: concept(r.code),
    performedDateTime: str(r.performedDateTime),
    performedPeriod: period(r.performedPeriod),
    performer: references(objects(r.performer).map((p) => p.actor), r, ctx).map((actor) => ({ actor })),
    location: profileReference(r.location, r, ctx),
    reasonCode: concepts(r.reasonCode),
    bodySite: concepts(r.bodySite),
    outcome: concept(r.outcome),
    note: annotations(r.note),
  });
}

export function mapDevice(r: Json): Json {
  const names = objects(r.deviceName)
    .filter((n) => str(n.name) !== undefined)
    .map((n) => ({ name: n.name, type: oneOf(n.type, ['udi-label-name', 'user-friendly-name', 'patient-reported-name', 'manufacturer-name', 'model-name', 'other']) ?? 'other' }));
  return clean({
    resourceType: 'Device',
    status: oneOf(r.status, ['active', 'inactive', 'entered-in-error', 'unknown']),
    // What it is: its type, else its name (the schema needs one).
    type: concept(r.type) ?? (names[0] ? { text: names[0].name } : undefined),
    deviceName: names,
    udiCarrier: objects(r.udiCarrier)
      .map((u) => clean({ deviceIdentifier: str(u.deviceIdentifier), carrierHRF: str(u.carrierHRF) }))
      .filter((u) => Object.keys(u).length > 0),
    manufacturer: str(r.manufacturer),
    modelNumber: str(r.modelNumber),
    serialNumber: str(r.serialNumber),
    lotNumber: str(r.lotNumber),
    manufactureDate: str(r.manufactureDate),
    expirationDate: str(r.expirationDate),
    safety: concepts(r.safety),
    note: annotations(r.note),
  });
}

export function mapFlag(r: Json): Json {
  return clean({ resourceType: 'Flag', status: str(r.status), category: concepts(r.category), code: concept(r.code), period: period(r.period) });
}

const ENCOUNTER_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

export function mapEncounter(r: Json, ctx: MapContext): Json {
  const klass = isObject(r.class) ? clean({ system: str(r.class.system), code: str(r.class.code), display: str(r.class.display) }) : undefined;
  const type = concepts(r.type);
  return clean({
    resourceType: 'Encounter',
    status: str(r.status),
    class: klass && klass.system === undefined && klass.code !== undefined ? { ...klass, system: ENCOUNTER_CLASS } : klass,
    // The schema needs what the visit was: its type, else its class's name.
    type: type.length > 0 ? type : [{ text: str(klass?.display) ?? 'Visit' }],
    period: period(r.period),
    participant: references(objects(r.participant).map((p) => p.individual), r, ctx).map((individual) => ({ individual })),
    reasonCode: concepts(r.reasonCode),
    serviceProvider: profileReference(r.serviceProvider, r, ctx),
    location: references(objects(r.location).map((l) => l.location), r, ctx).map((location) => ({ location })),
  });
}

const references = (refs: unknown[], from: Json, ctx: MapContext): Json[] => refs.map((x) => profileReference(x, from, ctx)).filter((x): x is Json => x !== undefined);
