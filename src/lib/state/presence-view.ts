/**
 * Who else is here, as people (issue 13 item 9): one entry per person however many devices or
 * tabs they have open, with where they are in words ("Medications", not "list:journal").
 */
import type { PresenceEntry, SectionName } from '../vault/app.ts';
import { SECTION_FORMS } from './forms/index.ts';

/** The screens' own ids (ProfileState.enter) that are no record section. */
const SCREENS: Readonly<Record<string, string>> = {
  overview: 'Overview',
  medications: 'Medications',
  trends: 'Trends',
  notes: 'Notes',
  emergency: 'Emergency card',
  sharing: 'Sharing',
  import: 'Importing records',
  kept: 'Other imported records',
};

/** Where someone is, in words; '' for nowhere in particular. */
export function placeName(section: string): string {
  if (!section) return '';
  return SCREENS[section] ?? SECTION_FORMS[section as SectionName]?.title ?? 'Elsewhere in the profile';
}

export interface PersonHere {
  /** The person's key (their identity; a device's own key if it has no identity). */
  readonly key: string;
  readonly name: string;
  /** Where their most recently active device or tab is. */
  readonly place: string;
  /** How many of their devices or tabs are here. */
  readonly devices: number;
}

/**
 * One entry per person: `personOf` maps a device key to its person's key. Sorted by name so the
 * row does not reshuffle on every heartbeat.
 */
export function peopleHere(presence: readonly PresenceEntry[], personOf: (device: string) => string, nameOf: (device: string) => string): PersonHere[] {
  const byPerson = new Map<string, { newest: PresenceEntry; devices: Set<string> }>();
  for (const p of presence) {
    const key = personOf(p.author);
    const seen = byPerson.get(key);
    if (!seen) byPerson.set(key, { newest: p, devices: new Set([p.author]) });
    else {
      seen.devices.add(p.author);
      if (p.at > seen.newest.at) seen.newest = p;
    }
  }
  return [...byPerson.entries()]
    .map(([key, { newest, devices }]) => ({ key, name: newest.name.trim() || nameOf(newest.author), place: placeName(newest.section), devices: devices.size }))
    .sort((a, b) => a.name.localeCompare(b.name) || a.key.localeCompare(b.key));
}
