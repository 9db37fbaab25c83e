/**
 * Compile-time proof that each FHIR-shaped record is a valid @medplum/fhirtypes R4 resource,
 * apart from the subject/patient reference, which is implicit (one profile is one person).
 * `tsc --noEmit` (npm run check / lint) fails if a schema drifts from FHIR. Types only: nothing
 * from @medplum/fhirtypes reaches the bundle.
 */
import type {
  AllergyIntolerance,
  Condition,
  Consent,
  DiagnosticReport,
  Location,
  Organization,
  Device,
  DocumentReference,
  Encounter,
  Flag,
  Immunization,
  MedicationStatement,
  Observation,
  Patient,
  Practitioner,
  Procedure,
} from '@medplum/fhirtypes';
import type { AllergyIntoleranceRecord } from './allergy.ts';
import type { AdvanceDirectiveRecord } from './advance-directive.ts';
import type { LocationRecord, OrganizationRecord, PractitionerRecord } from './care-team.ts';
import type { DiagnosticReportRecord } from './diagnostic-report.ts';
import type { ConditionRecord } from './condition.ts';
import type { DeviceRecord } from './device.ts';
import type { DocumentReferenceRecord } from './document.ts';
import type { EncounterRecord } from './encounter.ts';
import type { FlagRecord } from './flag.ts';
import type { ImmunizationRecord } from './immunization.ts';
import type { LabResultRecord } from './lab.ts';
import type { MedicationStatementRecord } from './medication.ts';
import type { PatientRecord } from './patient.ts';
import type { ProcedureRecord } from './procedure.ts';
import type { VitalSignRecord } from './vitals.ts';

/** `true` when every value of `Ours` is a value of `Fhir` (with `implicit` fields left out). */
export type Conforms<Ours, Fhir, Implicit extends keyof Fhir = never> = [Ours] extends [Omit<Fhir, Implicit>] ? true : false;

export interface FhirConformance {
  patient: Conforms<PatientRecord, Patient>;
  allergy: Conforms<AllergyIntoleranceRecord, AllergyIntolerance, 'patient'>;
  condition: Conforms<ConditionRecord, Condition, 'subject'>;
  medication: Conforms<MedicationStatementRecord, MedicationStatement, 'subject'>;
  immunization: Conforms<ImmunizationRecord, Immunization, 'patient'>;
  lab: Conforms<LabResultRecord, Observation>;
  vitals: Conforms<VitalSignRecord, Observation>;
  procedure: Conforms<ProcedureRecord, Procedure, 'subject'>;
  device: Conforms<DeviceRecord, Device>;
  flag: Conforms<FlagRecord, Flag, 'subject'>;
  encounter: Conforms<EncounterRecord, Encounter>;
  practitioner: Conforms<PractitionerRecord, Practitioner>;
  document: Conforms<DocumentReferenceRecord, DocumentReference>;
  organization: Conforms<OrganizationRecord, Organization>;
  location: Conforms<LocationRecord, Location>;
  advanceDirective: Conforms<AdvanceDirectiveRecord, Consent, 'patient'>;
  diagnosticReport: Conforms<DiagnosticReportRecord, DiagnosticReport, 'subject'>;
}

/** Fails to compile unless every entry above is `true`. */
export const FHIR_CONFORMANCE = {
  patient: true,
  allergy: true,
  condition: true,
  medication: true,
  immunization: true,
  lab: true,
  vitals: true,
  procedure: true,
  device: true,
  flag: true,
  encounter: true,
  practitioner: true,
  document: true,
  organization: true,
  location: true,
  advanceDirective: true,
  diagnosticReport: true,
} as const satisfies FhirConformance;
