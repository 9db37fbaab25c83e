/**
 * The emergency card: what a first responder or an unfamiliar doctor needs in the first minute,
 * taken from the profile's records. Only what is current counts: resolved allergies, past
 * conditions, stopped medicines, inactive alerts and anything entered in error are left out. An
 * allergy whose status was never recorded is kept (missing it could harm; showing it cannot).
 */
import {
  ACTIVE_CONDITION_STATUSES,
  SNOMED,
  type AllergyIntoleranceRecord,
  type BloodAndDonorRecord,
  type ConditionRecord,
  type DeviceRecord,
  type FlagRecord,
  type MedicationStatementRecord,
  type PatientRecord,
  type CareTeamRecord,
  type PractitionerRecord,
} from '../vault/health.ts';
import { fhirSpan, inPeriod } from './fhir-time.ts';

export interface EmergencyInput {
  demographics?: PatientRecord;
  allergies: readonly AllergyIntoleranceRecord[];
  conditions: readonly ConditionRecord[];
  medications: readonly MedicationStatementRecord[];
  blood?: BloodAndDonorRecord;
  alerts: readonly FlagRecord[];
  /** The care team: people and places (decision 0037); the card names only people. */
  careTeam: readonly CareTeamRecord[];
  devices: readonly DeviceRecord[];
}

export interface EmergencyAllergy {
  id: string;
  substance: string;
  criticality?: 'low' | 'high' | 'unable-to-assess';
  /** The worst reaction severity recorded. */
  severity?: 'mild' | 'moderate' | 'severe';
  /** Manifestations ("Anaphylaxis", "Hives"), each once. */
  reactions: string[];
  type?: 'allergy' | 'intolerance';
  /** Not confirmed by a clinician: shown, marked as such. */
  unconfirmed: boolean;
}

export interface EmergencyItem {
  id: string;
  text: string;
  /** Extra line: a condition's severity, a medicine's dose, a device's model. */
  detail?: string;
}

export interface EmergencyMedication {
  id: string;
  name: string;
  /** Dosage texts joined ("1 tablet twice a day; 2 puffs when needed"). */
  dose?: string;
  asNeeded: boolean;
}

export interface EmergencyDevice {
  id: string;
  name: string;
  detail?: string;
  /** MRI safety and the like ("MR conditional"). */
  safety: string[];
}

export interface EmergencyContactInfo {
  name: string;
  /** "Mother", "Partner". */
  relationship?: string;
  /** The number as written. */
  phone?: string;
  /** `tel:` URI for it, when it has digits. */
  tel?: string;
}

export interface EmergencyCardData {
  /** '' when there are no demographics. */
  name: string;
  /** Whole years; absent without a birth date (or with one in the future). */
  age?: number;
  /** "54 years", "about 54 years" (only the year or month known), "8 months", "3 weeks". */
  ageText?: string;
  birthDate?: string;
  gender?: 'male' | 'female' | 'other' | 'unknown';
  /** As written on the blood card ("A Rh+"), else built from ABO and Rh. */
  bloodType?: string;
  organDonor?: { status: 'yes' | 'no' | 'limited' | 'unknown'; note?: string };
  /** High criticality first, then unassessed, unrecorded and low; severe reactions first within each. */
  allergies: EmergencyAllergy[];
  conditions: EmergencyItem[];
  medications: EmergencyMedication[];
  devices: EmergencyDevice[];
  alerts: EmergencyItem[];
  contacts: EmergencyContactInfo[];
  primaryCare?: EmergencyContactInfo & { role?: string };
}

const byText = <T>(key: (x: T) => string) => (a: T, b: T) => key(a).localeCompare(key(b));
const CRITICALITY_RANK = { high: 0, 'unable-to-assess': 1, none: 2, low: 3 } as const;
const SEVERITY_RANK = { severe: 0, moderate: 1, mild: 2, none: 3 } as const;
const SEVERITIES = ['mild', 'moderate', 'severe'] as const;
const GP_SNOMED = '62247001';
const GP_TEXT = /general pract|family (doctor|physician|medicine)|primary care|\bGP\b|house doctor/i;

export function emergencyCard(p: EmergencyInput, now: Date): EmergencyCardData {
  const patient = p.demographics;
  const birth = patient?.birthDate ? ageOf(patient.birthDate, now) : undefined;
  const card: EmergencyCardData = {
    name: patient ? preferredName(patient.name) : '',
    allergies: p.allergies.filter(isCurrentAllergy).map(allergy).sort(allergyOrder),
    conditions: p.conditions
      .filter((c) => (ACTIVE_CONDITION_STATUSES as readonly string[]).includes(c.clinicalStatus.coding[0]?.code ?? '') && !refutedOrError(c.verificationStatus))
      .map((c) => withDetail({ id: c.id, text: c.code.text }, c.severity?.text))
      .sort(byText((c) => c.text)),
    medications: p.medications.filter((m) => m.status === 'active').map(medication).sort(byText((m) => m.name)),
    devices: p.devices.filter((d) => d.status === undefined || d.status === 'active').map(device).sort(byText((d) => d.name)),
    alerts: p.alerts
      .filter((f) => f.status === 'active' && inPeriod(f.period, now.getTime()))
      .map((f) => withDetail({ id: f.id, text: f.code.text }, f.category?.map((c) => c.text).join(', ')))
      .sort(byText((f) => f.text)),
    contacts: (patient?.contact ?? []).map((c) => contactInfo(c.name.text, c.relationship.map((r) => r.text).join(', '), c.telecom)),
  };
  if (birth) Object.assign(card, birth, { birthDate: patient!.birthDate });
  if (patient?.gender) card.gender = patient.gender;
  const blood = p.blood && bloodType(p.blood);
  if (blood) card.bloodType = blood;
  if (p.blood) card.organDonor = p.blood.organDonorNote?.trim() ? { status: p.blood.organDonor, note: p.blood.organDonorNote.trim() } : { status: p.blood.organDonor };
  const gp = primaryCare(p.careTeam);
  if (gp) card.primaryCare = gp;
  return card;
}

/** Age from a FHIR date on the local calendar of `now`; a partial date counts from its first day and says "about". */
function ageOf(birthDate: string, now: Date): { age: number; ageText: string } | undefined {
  const span = fhirSpan(birthDate);
  if (!span || span.start > now.getTime()) return undefined;
  const b = new Date(span.start);
  let years = now.getFullYear() - b.getFullYear();
  let months = now.getMonth() - b.getMonth();
  if (now.getDate() < b.getDate()) months--;
  if (months < 0) {
    years--;
    months += 12;
  }
  const about = span.precision === 'year' || span.precision === 'month' ? 'about ' : '';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  // Babies are dosed by age in weeks or months: "0 years" would say nothing.
  let ageText: string;
  if (years >= 2) ageText = plural(years, 'year');
  else if (years * 12 + months >= 1) ageText = plural(years * 12 + months, 'month');
  else ageText = plural(Math.floor((now.getTime() - span.start) / (7 * 86_400_000)), 'week');
  return { age: years, ageText: about + ageText };
}

function preferredName(names: PatientRecord['name'] | PractitionerRecord['name']): string {
  const pick = names.find((n) => n.use === 'usual') ?? names.find((n) => n.use === 'official') ?? names.find((n) => n.use !== 'old' && n.use !== 'maiden') ?? names[0];
  return pick?.text ?? '';
}

function refutedOrError(status: { coding: { code: string }[] } | undefined): boolean {
  const code = status?.coding[0]?.code;
  return code === 'refuted' || code === 'entered-in-error';
}

function isCurrentAllergy(a: AllergyIntoleranceRecord): boolean {
  const clinical = a.clinicalStatus?.coding[0]?.code;
  return (clinical === undefined || clinical === 'active') && !refutedOrError(a.verificationStatus);
}

function allergy(a: AllergyIntoleranceRecord): EmergencyAllergy {
  const reactions = [...new Set((a.reaction ?? []).flatMap((r) => r.manifestation.map((m) => m.text)))];
  const worst = SEVERITIES.filter((s) => a.reaction?.some((r) => r.severity === s)).at(-1);
  const out: EmergencyAllergy = { id: a.id, substance: a.code.text, reactions, unconfirmed: a.verificationStatus?.coding[0]?.code === 'unconfirmed' };
  if (a.criticality) out.criticality = a.criticality;
  if (worst) out.severity = worst;
  if (a.type) out.type = a.type;
  return out;
}

function allergyOrder(a: EmergencyAllergy, b: EmergencyAllergy): number {
  return (
    CRITICALITY_RANK[a.criticality ?? 'none'] - CRITICALITY_RANK[b.criticality ?? 'none'] ||
    SEVERITY_RANK[a.severity ?? 'none'] - SEVERITY_RANK[b.severity ?? 'none'] ||
    a.substance.localeCompare(b.substance)
  );
}

function medication(m: MedicationStatementRecord): EmergencyMedication {
  const dose = (m.dosage ?? []).map((d) => d.text).join('; ');
  const out: EmergencyMedication = { id: m.id, name: m.medicationCodeableConcept.text, asNeeded: (m.dosage ?? []).some((d) => d.asNeededBoolean === true) };
  if (dose) out.dose = dose;
  return out;
}

function device(d: DeviceRecord): EmergencyDevice {
  const named = d.deviceName?.find((n) => n.type === 'user-friendly-name' || n.type === 'patient-reported-name') ?? d.deviceName?.[0];
  const detail = [named?.name, d.manufacturer, d.modelNumber].filter((s): s is string => !!s?.trim()).join(', ');
  const out: EmergencyDevice = { id: d.id, name: d.type.text, safety: (d.safety ?? []).map((s) => s.text) };
  if (detail) out.detail = detail;
  return out;
}

function withDetail(item: EmergencyItem, detail: string | undefined): EmergencyItem {
  if (detail?.trim()) item.detail = detail.trim();
  return item;
}

function bloodType(b: BloodAndDonorRecord): string | undefined {
  if (b.bloodGroup?.text) return b.bloodGroup.text;
  const parts = [b.abo, b.rh && `Rh${b.rh === 'positive' ? '+' : '−'}`].filter(Boolean);
  return parts.length ? parts.join(' ') : undefined;
}

type Telecom = PatientRecord['telecom'];

/** The number to call: phone before SMS, mobile first among equals, then FHIR rank. */
function phoneOf(telecom: Telecom): string | undefined {
  const score = (t: NonNullable<Telecom>[number]) => (t.system === 'phone' ? 0 : 2) + (t.use === 'mobile' ? 0 : 1);
  const best = (telecom ?? [])
    .filter((t) => t.system === 'phone' || t.system === 'sms')
    .filter((t) => t.use !== 'old')
    .sort((a, b) => score(a) - score(b) || (a.rank ?? Infinity) - (b.rank ?? Infinity))[0];
  return best?.value;
}

function contactInfo(name: string, relationship: string, telecom: Telecom): EmergencyContactInfo {
  const out: EmergencyContactInfo = { name };
  if (relationship) out.relationship = relationship;
  const phone = phoneOf(telecom);
  if (phone) {
    out.phone = phone;
    // RFC 3966: a leading + and digits are what a dialler needs; spaces, dots and dashes are not.
    const digits = phone.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
    if (/\d/.test(digits)) out.tel = `tel:${digits}`;
  }
  return out;
}

/** The family doctor: a practitioner qualified as a GP; failing that the first one with a phone number. */
function primaryCare(team: readonly CareTeamRecord[]): (EmergencyContactInfo & { role?: string }) | undefined {
  const current = team.filter((t): t is PractitionerRecord => t.resourceType === 'Practitioner' && t.active !== false);
  const isGp = (t: PractitionerRecord) =>
    (t.qualification ?? []).some((q) => q.code.coding?.some((c) => c.system === SNOMED && c.code === GP_SNOMED) || GP_TEXT.test(q.code.text));
  const pick = current.find(isGp) ?? current.find((t) => phoneOf(t.telecom) !== undefined);
  if (!pick) return undefined;
  const out: EmergencyContactInfo & { role?: string } = contactInfo(preferredName(pick.name), '', pick.telecom);
  const role = pick.qualification?.[0]?.code.text;
  if (role) out.role = role;
  return out;
}
