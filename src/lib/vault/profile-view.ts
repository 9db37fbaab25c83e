/**
 * The read half of the Profile facade (profile.ts `Profile` extends it, through profile-admin.ts):
 * what this device may do (its role, the owner and writer checks, the guard on its own membership
 * writes) and what the profile holds (generic reads, system maps and display names, held keys,
 * the folded membership, what changed), all read from the verified state. Nothing here changes
 * the profile (a system map's writes pass the writer check kept here). Separate so that
 * profile.ts holds the wiring and the operations; callers still see one object.
 */
import type * as Y from 'yjs';
import { toBase64Url, toHex } from '../crypto/index.ts';
import { isAdminRole, isWriterRole, RecordType, type MembershipOp, type MembershipState, type Principal } from '../protocol/index.ts';
import { docToJSON, listRoot, noteRoot } from '../../../crdt-schemas/layout.ts';
import { MEMBER_NAMES_MAP, type SystemMapDef } from '../../../crdt-schemas/system.ts';
import { Observable } from '../sync/observable.ts';
import type { ProfileSync } from '../sync/profile-sync.ts';
import { VaultError } from './errors.ts';
import type { ProfileCache } from './profile-cache.ts';
import type { ProfileAccess, ProfileContext } from './profile-options.ts';
import { plainValue } from './records.ts';
import { SystemMap } from './system-map.ts';

const NO_REFUSAL = new Observable<string | null>(null);

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export abstract class ProfileView {
  readonly name: string;
  readonly access: ProfileAccess;
  protected readonly sync: ProfileSync;
  /** The connection's refusal, forwarded: stable for callers that take it before the connection exists. */
  protected readonly refusalSeen = new Observable<string | null>(null);
  protected readonly plain: Y.Doc;
  protected readonly ctx: ProfileContext;
  protected readonly relay: { url: string; token: () => Promise<string> } | undefined;
  /** Bumped after every change to the plain doc, with the root names that changed. */
  readonly changes = new Observable<{ roots: ReadonlySet<string>; remote: boolean }>({ roots: new Set(), remote: false });
  private readonly systemMaps = new Map<string, SystemMap<unknown>>();
  /** A memory-only guest session: no download or export of the record (OpenProfileOptions.memoryOnly). */
  memoryOnly = false;
  /** Made by the facade once its status model is (profile.ts). */
  protected abstract readonly cache: ProfileCache;

  protected constructor(access: ProfileAccess, sync: ProfileSync, plain: Y.Doc, ctx: ProfileContext, relay: ProfileView['relay']) {
    this.access = access;
    this.ctx = ctx;
    this.relay = relay;
    this.name = toBase64Url(access.docId);
    this.sync = sync;
    this.plain = plain;
  }

  /** The relay's WebSocket URL, if this profile syncs through one. */
  get relayUrl(): string | undefined {
    return this.relay?.url;
  }

  /** A fresh short-lived relay token for this profile (what its connection sends; blob requests use it too). */
  relayToken(): Promise<string> {
    if (!this.relay) return Promise.reject(new VaultError('RELAY_NOT_CONFIGURED', 'this profile has no relay'));
    return this.relay.token();
  }

  /** This device's role now (undefined: not or no longer a member). */
  get role(): Principal | undefined {
    return this.sync.index.membership.roleOf(this.sync.signerKey, this.ctx.now());
  }

  get canWrite(): boolean {
    // While a cached open is checked, the role is not folded yet: the cache's word lets edits
    // queue (nothing is sealed until the check passes, and the seal checks the real role).
    if (this.sync.state.value.verifying) return this.cache.writableWhileChecking;
    return isWriterRole(this.role);
  }

  /** This device acts for an owner of the profile now (may invite, share, remove, revoke, rotate). */
  get isOwner(): boolean {
    return isAdminRole(this.role);
  }

  /**
   * Refuses an owner-only action before anything is sealed: the relay and every member would
   * refuse the records (RECORD_NOT_ADMIN), and a refused rotation's snapshot would already have
   * deleted, in this device's own envelope, the records it covers.
   */
  requireOwner(action = 'manage sharing'): void {
    if (!this.isOwner) throw new VaultError('NOT_OWNER', `only an owner of this profile can ${action}`);
  }

  /** Refuses any download or export in a memory-only guest session (the one check every export path calls). */
  requireMayExport(): void {
    if (this.memoryOnly) throw new VaultError('EXPORT_GUEST', 'This live session keeps nothing on this device, so it offers no downloads.');
  }

  /** Refuses a write by a member whose role is read-only (a device not yet certified still queues its edits). */
  protected requireWriter(): void {
    const role = this.role;
    if (role !== undefined && !isWriterRole(role)) throw new VaultError('RECORD_READ_ONLY', 'you can view this profile but not change it');
  }

  /**
   * Every membership record and snapshot this profile signs passes the author check the relay
   * applies (protocol/membership.ts `check`), so a path that forgot its own check still signs
   * nothing it may not: set, remove, rotate and invite are an owner's; revoke-device an owner's
   * or the device's own person's; a snapshot a writer's.
   */
  protected guardOwnWrites(sync: ProfileSync): void {
    sync.setWriteGuard({
      membership: (op) => this.checkMembershipWrite(op),
      snapshot: () => {
        if (!this.canWrite) throw new VaultError('RECORD_READ_ONLY', 'you can view this profile but not change it');
      },
    });
  }

  private checkMembershipWrite(op: MembershipOp): void {
    switch (op.kind) {
      case 'remove':
        // Leaving (decision 0038): a member removes its own identity; anyone else's is an owner's.
        if (this.ownIdentity() === toHex(op.publicKey)) return;
        return this.requireOwner('change who has access');
      case 'set':
      case 'rotate':
      case 'invite':
        return this.requireOwner('change who has access');
      case 'revoke-device': {
        if (this.isOwner) return;
        // Not an owner: only a device of this member's own person.
        const state = this.sync.index.membership.state();
        const mine = this.ownIdentity();
        if (mine === undefined || state.devices.get(toHex(op.device))?.identity !== mine) this.requireOwner("revoke another member's device");
        return;
      }
      default:
        return; // genesis (the creator), device (the device or its identity), accept (the invite key)
    }
  }

  /** The member identity (hex) this device acts for now: itself, or the identity that certified it. */
  private ownIdentity(): string | undefined {
    if (this.role === undefined) return undefined;
    const state = this.sync.index.membership.state();
    const me = toHex(this.sync.signerKey);
    return state.members.has(me) ? me : state.devices.get(me)?.identity;
  }

  /**
   * Resolves once the stored records are verified: at once after a full open; after a cached
   * open, when the background check is over ('mismatch': the cache held unverified content).
   */
  whenVerified(): Promise<'verified' | 'mismatch'> {
    return this.cache.whenVerified();
  }

  /**
   * Calls back after any change a screen may show: record content, membership (roles, devices,
   * invites) or another member's audit entry (names and device labels, decision 0038).
   */
  watch(fn: () => void): () => void {
    const onAudit = (e: { type: number } | null) => {
      if (e?.type === RecordType.audit) fn();
    };
    const stops = [this.changes.subscribe(fn), this.sync.membershipVersion.subscribe(fn), this.sync.applied.subscribe(onAudit)];
    return () => stops.forEach((stop) => stop());
  }

  /** A typed, validated system map of the plain doc (crdt-schemas/system.ts). */
  systemMap<T>(def: SystemMapDef<T>): SystemMap<T> {
    let map = this.systemMaps.get(def.root) as SystemMap<T> | undefined;
    if (!map) this.systemMaps.set(def.root, (map = new SystemMap(this.plain, def, () => this.requireWriter())));
    return map;
  }

  /** Names members chose for themselves, by hex signing key (each writes only their own). */
  displayNames(): Map<string, string> {
    return new Map(this.systemMap(MEMBER_NAMES_MAP).entries());
  }

  // ---- generic reads (CLI export, tests); writes go through records, notes and system maps ----

  getField(section: string, key: string): JsonValue | undefined {
    return plainValue(this.plain.getMap<JsonValue>(section).get(key)) as JsonValue | undefined;
  }

  readNote(name: string): string {
    return this.plain.getText(noteRoot(name)).toString();
  }

  readList(section: string): JsonValue[] {
    return this.plain.getArray<JsonValue>(listRoot(section)).toArray();
  }

  /** The decrypted record as JSON, each section read as its layout kind. */
  toJSON(): Record<string, unknown> {
    return docToJSON(this.plain);
  }

  /** The epoch keys this device holds (what it would take to read the profile). */
  heldKeys(): Map<number, Uint8Array> {
    return new Map(this.sync.keys.entries());
  }

  /** The current epoch and the keys this device holds: what another device of this person needs (an access bundle). */
  accessBundle(): ProfileAccess {
    return { docId: this.access.docId, epoch: this.sync.currentEpoch, epochKeys: new Map(this.sync.keys.entries()) };
  }

  /** Who has access: members, devices, invites and the epoch, as the verified membership log folds them. */
  membershipState(): MembershipState {
    return this.sync.index.membership.state();
  }

  /** The relay's refusal of this device's connection (a stable code), if any. */
  get refusal(): Observable<string | null> {
    return this.relay ? this.refusalSeen : NO_REFUSAL;
  }
}
