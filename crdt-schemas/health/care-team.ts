/**
 * The care team: doctors, nurses, therapists, pharmacists (FHIR Practitioner), and the places
 * that care for the person: practices, hospitals, pharmacies (FHIR Organization) and the sites
 * where they see them (FHIR Location). One section, told apart by `resourceType`
 * (docs/decisions/0037): a visit's `serviceProvider` or a procedure's `location` names them here.
 */
import { z } from 'zod';
import { Address, Concept, ContactPoint, defineKind, HumanName, recordBase, Reference } from './common.ts';

export const PractitionerRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Practitioner'),
  active: z.boolean().optional(),
  name: z.array(HumanName).min(1).max(5),
  telecom: z.array(ContactPoint).max(10).optional(),
  address: z.array(Address).max(5).optional(),
  /** Role or speciality as free text ("Cardiologist"), SNOMED CT when known. */
  qualification: z.array(z.looseObject({ code: Concept })).max(10).optional(),
});
export type PractitionerRecord = z.infer<typeof PractitionerRecord>;

const PlaceName = z.string().trim().min(1).max(400);
/** An organization's or site's contact points are never a home's (FHIR org-2/org-3). */
const WorkContactPoint = ContactPoint.refine((c) => c.use !== 'home', { message: "an organization's contact is not a home one", path: ['use'] });

export const OrganizationRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Organization'),
  active: z.boolean().optional(),
  /** "Riverside Family Practice" (FHIR org-1: a name or an identifier; the app needs the name). */
  name: PlaceName,
  /** What kind: practice, hospital, pharmacy, insurer. */
  type: z.array(Concept).max(5).optional(),
  telecom: z.array(WorkContactPoint).max(10).optional(),
  address: z.array(Address).max(5).optional(),
});
export type OrganizationRecord = z.infer<typeof OrganizationRecord>;

export const LocationRecord = z.looseObject({
  ...recordBase,
  resourceType: z.literal('Location'),
  status: z.enum(['active', 'suspended', 'inactive']).optional(),
  name: PlaceName,
  type: z.array(Concept).max(5).optional(),
  telecom: z.array(WorkContactPoint).max(10).optional(),
  address: Address.optional(),
  /** The organization running the site: `care-team/<id>` and/or its name. */
  managingOrganization: Reference.optional(),
});
export type LocationRecord = z.infer<typeof LocationRecord>;

export const CareTeamRecord = z.discriminatedUnion('resourceType', [PractitionerRecord, OrganizationRecord, LocationRecord]);
export type CareTeamRecord = z.infer<typeof CareTeamRecord>;

export const practitioner = defineKind({ kind: 'Practitioner', schema: CareTeamRecord, schemaVersion: 1 });
