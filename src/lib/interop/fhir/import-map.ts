/**
 * Which section a FHIR resource lands in, and the mapping dispatch (docs/decisions/0029). A
 * mapper turns one resource into the body of a record (without id, version or import mark), or
 * says it is kept verbatim, folded into another record, or rejected with a code.
 */
import type { SectionName } from '../../../../crdt-schemas/health/sections.ts';
import { mapAllergy, mapCondition, mapDevice, mapEncounter, mapFlag, mapImmunization, mapMedication, mapProcedure } from './import-map-clinical.ts';
import { mapObservation, observationSection } from './import-map-observation.ts';
import { mapPatient, mapPractitioner } from './import-map-people.ts';
import { hasPlaceName, isAdvanceDirective, mapAdvanceDirective, mapDiagnosticReport, mapLocation, mapOrganization } from './import-map-records.ts';
import type { MapContext, Mapped } from './import-context.ts';
import type { Json } from './import-values.ts';

export type { MapContext, Mapped, RejectCode } from './import-context.ts';

const SECTION_OF_TYPE: Readonly<Record<string, SectionName>> = {
  Patient: 'demographics',
  AllergyIntolerance: 'allergies',
  Condition: 'conditions',
  MedicationStatement: 'medications',
  MedicationRequest: 'medications',
  Immunization: 'immunizations',
  Procedure: 'procedures',
  Device: 'devices',
  Flag: 'alerts',
  Encounter: 'visits',
  Practitioner: 'care-team',
  DiagnosticReport: 'diagnostic-reports',
};

/** The section a resource would land in (before its schema is checked), or 'kept'. */
export function sectionOf(r: Json): SectionName {
  if (r.resourceType === 'Observation') return observationSection(r) ?? 'kept';
  if (r.resourceType === 'Consent') return isAdvanceDirective(r) ? 'advance-directives' : 'kept';
  if (r.resourceType === 'Organization' || r.resourceType === 'Location') return hasPlaceName(r) ? 'care-team' : 'kept';
  return SECTION_OF_TYPE[r.resourceType as string] ?? 'kept';
}

export function mapResource(r: Json, ctx: MapContext): Mapped {
  switch (r.resourceType) {
    case 'Patient':
      return record('demographics', mapPatient(r));
    case 'Practitioner':
      return record('care-team', mapPractitioner(r));
    case 'AllergyIntolerance':
      return record('allergies', mapAllergy(r, ctx));
    case 'Condition':
      return record('conditions', mapCondition(r));
    case 'MedicationStatement':
    case 'MedicationRequest': {
      const m = mapMedication(r, ctx);
      return m === 'broken' ? { kind: 'reject', code: 'IMPORT_BROKEN_REFERENCE' } : record('medications', m);
    }
    case 'Medication':
      return ctx.isReferencedMedication(r) ? { kind: 'folded' } : { kind: 'kept' };
    case 'Immunization':
      return record('immunizations', mapImmunization(r, ctx));
    case 'Procedure':
      return record('procedures', mapProcedure(r, ctx));
    case 'Device':
      return record('devices', mapDevice(r));
    case 'Flag':
      return record('alerts', mapFlag(r));
    case 'Consent':
      return isAdvanceDirective(r) ? record('advance-directives', mapAdvanceDirective(r)) : { kind: 'kept' };
    case 'Organization':
      return hasPlaceName(r) ? record('care-team', mapOrganization(r)) : { kind: 'kept' };
    case 'Location':
      return hasPlaceName(r) ? record('care-team', mapLocation(r, ctx)) : { kind: 'kept' };
    case 'DiagnosticReport':
      return record('diagnostic-reports', mapDiagnosticReport(r, ctx));
    case 'Encounter':
      return record('visits', mapEncounter(r, ctx));
    case 'Observation': {
      const section = observationSection(r);
      return section ? record(section, mapObservation(r, section, ctx)) : { kind: 'kept' };
    }
    default:
      return { kind: 'kept' };
  }
}

const record = (section: SectionName, body: Json): Mapped => ({ kind: 'record', section, body });

