/** People: the Patient (personal details), the care team, emergency contacts (docs/decisions/0029). */
import { addresses, address, bool, clean, concept, concepts, contactPoints, humanName, humanNames, isObject, objects, oneOf, str, type Json } from './import-values.ts';

export function mapPatient(r: Json): Json {
  return clean({
    resourceType: 'Patient',
    name: humanNames(r.name),
    birthDate: str(r.birthDate),
    gender: oneOf(r.gender, ['male', 'female', 'other', 'unknown']),
    telecom: contactPoints(r.telecom),
    address: addresses(r.address),
    communication: objects(r.communication)
      .map((c) => ({ language: concept(c.language), preferred: bool(c.preferred) }))
      .filter((c) => c.language !== undefined)
      .map((c) => clean(c as Json)),
    contact: objects(r.contact)
      .map(contactOf)
      .filter((c): c is Json => c !== undefined),
  });
}

/** A Patient.contact or a RelatedPerson as an emergency contact (the schema needs a relationship and a name). */
export function contactOf(c: Json): Json | undefined {
  const name = humanName(isObject(c.name) ? c.name : Array.isArray(c.name) ? c.name[0] : undefined);
  if (!name) return undefined;
  const relationship = concepts(c.relationship);
  const addr = isObject(c.address) ? address(c.address) : Array.isArray(c.address) ? address(c.address[0]) : undefined;
  return clean({ relationship: relationship.length > 0 ? relationship : [{ text: 'Contact' }], name, telecom: contactPoints(c.telecom), address: addr });
}

export function mapPractitioner(r: Json): Json {
  return clean({
    resourceType: 'Practitioner',
    active: bool(r.active),
    name: humanNames(r.name),
    telecom: contactPoints(r.telecom),
    address: addresses(r.address),
    qualification: objects(r.qualification)
      .map((q) => concept(q.code))
      .filter((c): c is Json => c !== undefined)
      .map((code) => ({ code })),
  });
}

/** What a PractitionerRole adds to its practitioner's record: its role and specialties, its contact points. */
export function roleAdditions(role: Json): { qualification: Json[]; telecom: Json[] } {
  return { qualification: [...concepts(role.code), ...concepts(role.specialty)].map((code) => ({ code })), telecom: contactPoints(role.telecom) };
}
