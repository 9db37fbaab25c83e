/**
 * The emergency card as the PDFs read it: the shape of the app's emergency card read model
 * (src/lib/state/emergency.ts, `EmergencyCardData`), restated here because interop sits below
 * the state layer and may not import it. The state model satisfies this structurally (a test
 * passes one to the other), so which records count as current is decided in one place only.
 */
export interface CardAllergy {
  substance: string;
  criticality?: 'low' | 'high' | 'unable-to-assess';
  severity?: 'mild' | 'moderate' | 'severe';
  reactions: readonly string[];
  type?: 'allergy' | 'intolerance';
  unconfirmed: boolean;
}

export interface CardItem {
  text: string;
  detail?: string;
}

export interface CardMedication {
  id: string;
  name: string;
  dose?: string;
  asNeeded: boolean;
}

export interface CardContact {
  name: string;
  relationship?: string;
  phone?: string;
}

export interface EmergencyCardContent {
  name: string;
  ageText?: string;
  birthDate?: string;
  gender?: 'male' | 'female' | 'other' | 'unknown';
  bloodType?: string;
  organDonor?: { status: 'yes' | 'no' | 'limited' | 'unknown'; note?: string };
  allergies: readonly CardAllergy[];
  conditions: readonly CardItem[];
  medications: readonly CardMedication[];
  devices: readonly { name: string; detail?: string; safety: readonly string[] }[];
  alerts: readonly CardItem[];
  contacts: readonly CardContact[];
  primaryCare?: CardContact & { role?: string };
}

/** "high criticality", "severe reaction", "unconfirmed": what a reader must weigh, in words. */
export function allergyNotes(a: CardAllergy): string {
  const notes: string[] = [];
  if (a.criticality === 'high') notes.push('HIGH criticality');
  else if (a.criticality === 'unable-to-assess') notes.push('criticality not assessed');
  else if (a.criticality === 'low') notes.push('low criticality');
  if (a.type === 'intolerance') notes.push('intolerance');
  if (a.unconfirmed) notes.push('unconfirmed');
  return notes.join(', ');
}
