/** Devices and implants: pacemaker, insulin pump, hip prosthesis (FHIR Device; SNOMED CT type). */
import { z } from 'zod';
import { Annotation, Concept, defineKind, FhirDateTime, recordBase } from './common.ts';

export const DeviceRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Device'),
  status: z.enum(['active', 'inactive', 'entered-in-error', 'unknown']).optional(),
  /** What it is: free text always, SNOMED CT when known. */
  type: Concept,
  deviceName: z.array(z.looseObject({ name: z.string().trim().min(1).max(400), type: z.enum(['udi-label-name', 'user-friendly-name', 'patient-reported-name', 'manufacturer-name', 'model-name', 'other']) })).max(5).optional(),
  udiCarrier: z.array(z.looseObject({ deviceIdentifier: z.string().max(200).optional(), carrierHRF: z.string().max(400).optional() })).max(3).optional(),
  manufacturer: z.string().max(400).optional(),
  modelNumber: z.string().max(200).optional(),
  serialNumber: z.string().max(200).optional(),
  lotNumber: z.string().max(200).optional(),
  manufactureDate: FhirDateTime.optional(),
  expirationDate: FhirDateTime.optional(),
  /** Implanted devices matter on the emergency card (MRI safety). */
  safety: z.array(Concept).max(10).optional(),
  note: z.array(Annotation).max(50).optional(),
});
export type DeviceRecord = z.infer<typeof DeviceRecord>;

export const device = defineKind({ kind: 'Device', schema: DeviceRecord, schemaVersion: 1 });
