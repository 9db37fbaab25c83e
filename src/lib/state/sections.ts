/**
 * How the screens name and reach each health-record section: URL slugs (no colons or PHI in
 * URLs), labels, and the profile navigation.
 */
import type { SectionName } from '../vault/app.ts';

/** Slug in `#/p/<doc>/s/<slug>` → section. Logs get plain slugs. */
export const SECTION_SLUGS: Readonly<Record<string, SectionName>> = {
  demographics: 'demographics',
  allergies: 'allergies',
  conditions: 'conditions',
  medications: 'medications',
  immunizations: 'immunizations',
  labs: 'lab-results',
  reports: 'diagnostic-reports',
  procedures: 'procedures',
  devices: 'devices',
  alerts: 'alerts',
  'advance-directives': 'advance-directives',
  blood: 'blood-donor',
  visits: 'visits',
  'care-team': 'care-team',
  documents: 'documents',
  vitals: 'list:vitals',
  doses: 'list:doses',
  journal: 'list:journal',
};

export const slugOf = (section: SectionName): string => Object.entries(SECTION_SLUGS).find(([, s]) => s === section)![0];

/** Record sections listed on a profile's overview, in the order a carer reads them. */
export const RECORD_SECTIONS: readonly SectionName[] = [
  'allergies',
  'alerts',
  'conditions',
  'medications',
  'immunizations',
  'lab-results',
  'diagnostic-reports',
  'list:vitals',
  'procedures',
  'devices',
  'blood-donor',
  'visits',
  'care-team',
  'advance-directives',
  'documents',
  'demographics',
];

export interface NavItem {
  readonly path: string;
  readonly label: string;
  readonly ownerOnly?: boolean;
  /** For an owner-only item: the label members who are not owners see it under (absent: hidden). */
  readonly othersLabel?: string;
}

/** The profile's navigation for this member: owner-only items hidden or renamed (`othersLabel`). */
export function navFor(isOwner: boolean): NavItem[] {
  return NAV.flatMap((n) => (!n.ownerOnly || isOwner ? [n] : n.othersLabel ? [{ ...n, label: n.othersLabel }] : []));
}

export const NAV: readonly NavItem[] = [
  { path: '', label: 'Overview' },
  { path: '/meds', label: 'Medications' },
  { path: '/trends', label: 'Trends' },
  { path: '/s/journal', label: 'Journal' },
  { path: '/notes', label: 'Notes' },
  { path: '/emergency', label: 'Emergency card' },
  { path: '/search', label: 'Search' },
  // Every member sees who has access, their safety codes, and may leave (decision 0038).
  { path: '/share', label: 'Sharing', ownerOnly: true, othersLabel: 'People' },
];
