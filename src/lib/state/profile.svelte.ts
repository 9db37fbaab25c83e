/**
 * One open profile as the screens see it. Getters read the vault through Subscribed, so a
 * template that shows `profile.list('allergies')` re-renders when any replica changes them;
 * writes go through the vault facade (validated, sealed, synced).
 */
import {
  RecordError,
  describeError,
  accessEnded,
  keepAnnounced,
  keepDeparturesCovered,
  membersOf,
  nameOfKey,
  nameSources,
  openInvites,
  roleName,
  type HistoryEntry,
  type InviteView,
  type MemberView,
  type NameSources,
  type PresenceEntry,
  type Profile,
  type RoleName,
  type SectionName,
  type SectionRecord,
  type SyncStatus,
} from '../vault/app.ts';
import { endsAccess } from '../vault/profile.ts';
import { fieldErrors, SECTION_FORMS } from './forms/index.ts';
import type { FormValues, SectionForm } from './forms/types.ts';
import { NoteState } from './note.svelte.ts';
import { ProfileSharing } from './sharing.svelte.ts';
import { ConflictNoticesState } from './conflict-notices.svelte.ts';
import { peopleHere, type PersonHere } from './presence-view.ts';
import { Subscribed } from './subscribed.svelte.ts';

export interface ProfileStateOptions {
  /** Read on use: a rename shows at once (decision 0038). */
  readonly displayName: string;
  /** This device's label, which it tells the profile's other members. */
  readonly deviceLabel?: string;
  readonly origin: string;
  readonly guest?: boolean;
}



export class ProfileState {
  readonly profile: Profile;
  readonly docId: string;
  readonly guest: boolean;
  /** A message for the person after a failed action (never PHI). */
  error = $state<string | null>(null);
  private readonly o: ProfileStateOptions;
  private readonly changes: Subscribed<unknown>;
  private readonly statusSub: Subscribed<SyncStatus>;
  private readonly presenceSub: Subscribed<PresenceEntry[]>;
  private readonly undoSub: Subscribed<{ canUndo: boolean; canRedo: boolean }>;
  private readonly refusalSub: Subscribed<string | null>;
  private readonly notes = new Map<string, NoteState>();
  private section = '';
  /** Invites, live sessions, members, devices and the audit trail (owners act, everyone reads). */
  readonly sharing: ProfileSharing;
  /** Same-field concurrent edits that lost a value (decision 0041). */
  readonly conflicts: ConflictNoticesState;

  constructor(profile: Profile, o: ProfileStateOptions) {
    this.profile = profile;
    this.o = o;
    this.docId = profile.name;
    this.guest = o.guest ?? false;
    this.sharing = new ProfileSharing(profile, o.origin, (message) => (this.error = message));
    this.conflicts = new ConflictNoticesState(profile, (key) => this.nameOf(key), (message) => (this.error = message));
    // Record content and membership (roles, devices, invites) both change what screens show.
    this.changes = new Subscribed((n) => profile.watch(n), () => null);
    this.statusSub = new Subscribed((n) => profile.status.subscribe(n), () => profile.status.value);
    this.presenceSub = new Subscribed((n) => profile.presence.subscribe(n), () => profile.presence.value);
    this.undoSub = new Subscribed((n) => profile.undo.state.subscribe(n), () => profile.undo.state.value);
    const refusal = profile.refusal;
    this.refusalSub = new Subscribed((n) => refusal.subscribe(n), () => refusal.value);
    // Every member (viewers and clinicians too) says who they are and which device this is, sealed
    // (decision 0038), so lists and history read "Ana", not a key; again after a rename.
    if (profile.canWrite && o.displayName.trim()) profile.setDisplayName(o.displayName); // at once, for writers
    const stopAnnouncing = keepAnnounced(profile, () => ({ name: o.displayName.trim() || undefined, label: o.deviceLabel?.trim() || undefined }));
    // Owners rotate after someone left by themselves (a leaver cannot; decision 0038).
    const stopCovering = keepDeparturesCovered(profile);
    this.stopAnnouncing = () => {
      stopAnnouncing();
      stopCovering();
    };
    // Back online: reconnect at once, not at the end of the back-off the offline period built up.
    // Offline: say so at once; the socket would notice only after its 30 s silence check.
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline);
      window.addEventListener('offline', this.onOffline);
      // Opened with no network: say so from the start.
      if (navigator.onLine === false) this.onOffline();
    }
  }

  private readonly stopAnnouncing: () => void;
  private readonly onOnline = (): void => this.profile.reconnectNow();
  private readonly onOffline = (): void => this.profile.networkLost();

  // ---- reading ---------------------------------------------------------------------------

  get status(): SyncStatus {
    return this.statusSub.read();
  }

  /** Others here now, with their section and (in notes) caret. */
  get presence(): PresenceEntry[] {
    return this.presenceSub.read();
  }

  /** Others here now as people: one per person (devices and tabs together), where in words. */
  get people(): PersonHere[] {
    const state = this.profile.membershipState();
    return peopleHere(this.presence, (d) => state.devices.get(d)?.identity ?? d, (d) => this.nameOf(d));
  }

  /** When this device's access ends (a clinician's live session), ms since the epoch; undefined: no end. */
  get accessEndsAt(): number | undefined {
    this.changes.read();
    const end = this.profile.membershipState().members.get(this.me)?.expiresAt;
    return end ? end : undefined;
  }

  /** The relay ended this device's access (removed, or a live session's time is up). */
  get accessEnded(): boolean {
    if (endsAccess(this.refusalSub.read())) return true;
    this.changes.read();
    return accessEnded(this.profile);
  }

  get role(): RoleName | undefined {
    this.changes.read();
    return roleName(this.profile.role);
  }

  get canWrite(): boolean {
    this.changes.read();
    return this.profile.canWrite;
  }

  get isOwner(): boolean {
    return this.role === 'owner';
  }

  /** The person's name from demographics (or a placeholder). */
  get patientName(): string {
    const d = this.list('demographics')[0] as { name?: { text?: string }[] } | undefined;
    return d?.name?.[0]?.text ?? 'Unnamed profile';
  }

  list<S extends SectionName>(section: S): SectionRecord<S>[] {
    this.changes.read();
    return this.profile.records.list(section);
  }

  invalidCount(section: SectionName): number {
    this.changes.read();
    return this.profile.records.invalidCount(section);
  }

  history(section: string, id: string): HistoryEntry[] {
    this.changes.read();
    return this.profile.records.history(section, id);
  }

  recent(limit = 30): HistoryEntry[] {
    this.changes.read();
    return this.profile.records.recent(limit);
  }

  /**
   * A person's name for a hex key (device, identity or invite): the name they chose in the
   * profile, else the one their verified presence carried, else a short key.
   */
  nameOf(key: string): string {
    this.changes.read();
    const state = this.profile.membershipState();
    const identity = state.devices.get(key)?.identity ?? key;
    const member = this.members.find((m) => m.key === identity);
    // One read of the names per render pass: an audit list names every entry's actor.
    if (!this.namesNow) {
      this.namesNow = nameSources(this.profile);
      queueMicrotask(() => (this.namesNow = undefined));
    }
    const known = nameOfKey(this.profile, key, this.namesNow) ?? this.presenceNames.get(key) ?? member?.devices.map((d) => this.presenceNames.get(d.key)).find(Boolean);
    if (known) return known;
    if (state.invites.has(key)) return 'an invitation';
    return `member ${key.slice(0, 6)}`;
  }

  private namesNow: NameSources | undefined;

  /** Names seen in verified presence (before a member's own name entry arrived). */
  private get presenceNames(): Map<string, string> {
    for (const p of this.presence) this.seenNames.set(p.author, p.name);
    return this.seenNames;
  }
  private readonly seenNames = new Map<string, string>();

  get me(): string {
    return this.profile.records.me;
  }

  get members(): MemberView[] {
    this.changes.read();
    return membersOf(this.profile);
  }

  get invites(): InviteView[] {
    this.changes.read();
    return openInvites(this.profile);
  }

  get canUndo(): boolean {
    return this.undoSub.read().canUndo;
  }

  get canRedo(): boolean {
    return this.undoSub.read().canRedo;
  }

  form(section: SectionName): SectionForm {
    return SECTION_FORMS[section];
  }

  // ---- writing ---------------------------------------------------------------------------

  /** Saves a form; returns field errors (messages never echo the values) or null when saved. */
  save(section: SectionName, values: FormValues, previous?: Record<string, unknown>, now = new Date()): Record<string, string> | null {
    const form = SECTION_FORMS[section];
    const record = form.fromForm(values, { now, by: this.me, newId: newRecordId }, previous);
    try {
      this.profile.records.put(section, record);
      this.profile.undo.stopCapturing();
      return null;
    } catch (e) {
      if (e instanceof RecordError && e.code === 'RECORD_INVALID') return fieldErrors(e.issues, form);
      return { _form: describeError(e) };
    }
  }

  remove(section: SectionName, id: string): void {
    this.act(() => {
      this.profile.records.remove(section, id);
      this.profile.undo.stopCapturing();
    });
  }

  /** Writes a record built in code (dose log, quick actions); false if it was refused. */
  put(section: SectionName, record: Record<string, unknown>): boolean {
    return this.act(() => {
      this.profile.records.put(section, record);
      this.profile.undo.stopCapturing();
    });
  }

  setPatientName(name: string): void {
    const existing = this.list('demographics')[0] as Record<string, unknown> | undefined;
    this.put('demographics', {
      ...(existing ?? { id: 'patient', schemaVersion: 1, resourceType: 'Patient' }),
      name: [{ text: name.trim() }],
    });
  }

  undo(): void {
    this.profile.undo.undo();
  }

  redo(): void {
    this.profile.undo.redo();
  }

  note(name: string): NoteState {
    let n = this.notes.get(name);
    if (!n) {
      n = new NoteState(this.profile.note(name), (cursor) => this.publishPresence(cursor));
      this.notes.set(name, n);
    }
    return n;
  }

  /** Tells the others which section this person is on. */
  enter(section: string): void {
    this.section = section;
    this.publishPresence();
  }

  private publishPresence(cursor?: { note: string; anchor: string; head: string }): void {
    void this.profile.setPresence({ name: this.o.displayName, section: this.section, ...(cursor ? { cursor } : {}) }).catch(() => undefined);
  }

  close(): Promise<void> {
    this.stopAnnouncing();
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('offline', this.onOffline);
    }
    return this.profile.close();
  }

  /** The whole decrypted record as a JSON file (the export is audited). */
  async exportFile(): Promise<Blob> {
    const data = await this.profile.exportJSON();
    return new Blob([JSON.stringify({ exportedAt: new Date().toISOString(), record: data }, null, 2)], { type: 'application/json' });
  }

  private act(action: () => void): boolean {
    this.error = null;
    try {
      action();
      return true;
    } catch (e) {
      this.error = describeError(e);
      return false;
    }
  }

}

const newRecordId = (): string => crypto.randomUUID();
