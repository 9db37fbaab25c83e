/**
 * The typed facade over one profile: its plain doc, envelope doc, local persistence, relay
 * connection and sync status. The UI, CLI and tests use this, never yjs or the provider.
 */
import * as Y from 'yjs';
import {
  defaultEd25519Engine,
  generateSymmetricKey,
  secureRandom,
  toBase64Url,
  type BoxKeyPair,
  type Ed25519Engine,
  type RandomSource,
  type SigningPublicKey,
  type SigningKeyPair,
  type SymmetricKey,
} from '../crypto/index.ts';
import {
  createAuthToken,
  deriveDocId,
  GENESIS_NONCE_LENGTH,
  RecordType,
  Role,
  type MemberEntry,
} from '../protocol/index.ts';
import { docToJSON, listRoot, noteRoot } from '../../../crdt-schemas/layout.ts';
import { Observable } from '../sync/observable.ts';
import { grant, nextExpiry, removeExpired, revoke, rotate, writeGenesis } from '../sync/admin.ts';
import { ExpirySweep } from './expiry-sweep.ts';
import { EpochKeyRing } from '../sync/key-ring.ts';
import { ProfileSync } from '../sync/profile-sync.ts';
import { RelayConnection } from '../sync/relay-connection.ts';
import type { RelaySocket } from '../sync/relay-socket.ts';
/** Whether a connection's refusal means this device's access ended (the one table: sync/refusals.ts). */
export { endsAccess } from '../sync/refusals.ts';
import { readAuditTrail, recordAudit, type AuditTrail } from './audit-trail.ts';
import type { AuditKindName } from '../protocol/index.ts';
import type { PresenceEntry, PresenceState } from '../sync/presence.ts';
import { ProfilePresence } from './profile-presence.ts';
import { ProfileStatus } from './profile-status.ts';
import { ProfileConflicts } from './profile-conflicts.ts';
import { editsOf } from './edit-count.ts';
import type { SyncStatus } from '../sync/status.ts';
import type { Persistence } from '../storage/types.ts';
import type { CompactionPolicy } from '../sync/compaction.ts';
import { REMOTE_ORIGIN } from '../sync/profile-sync.ts';
import { toHex } from '../crypto/index.ts';
import { LOCAL_ORIGIN, ProfileRecords, plainValue } from './records.ts';
import { changedRoots } from './roots.ts';
import { VaultError } from './errors.ts';
import { UndoController } from './undo.ts';
import { NoteHandle } from './note.ts';
import { SystemMap } from './system-map.ts';
import { MEMBER_NAMES_MAP, type SystemMapDef } from '../../../crdt-schemas/system.ts';
import { isAdminRole, isWriterRole, type MembershipOp, type MembershipState, type Principal } from '../protocol/index.ts';
import { registerEngine } from './engine.ts';
import { openStoredCache, readSealedCache, type CacheRead, type PlainCacheOptions } from './plain-cache.ts';
import { ProfileCache } from './profile-cache.ts';
import type { Detach } from '../storage/types.ts';

const NO_REFUSAL = new Observable<string | null>(null);

/** What a member's device needs to open a profile (the sharing work delivers it by lockbox). */
export interface ProfileAccess {
  readonly docId: Uint8Array;
  readonly epoch: number;
  readonly epochKeys: ReadonlyMap<number, SymmetricKey>;
  /** Only the creator keeps this, to open the document on a relay before genesis is there. */
  readonly genesisNonce?: Uint8Array;
}

export type { Persistence } from '../storage/types.ts';

export interface OpenProfileOptions {
  readonly signer: SigningKeyPair;
  /**
   * Who signs the relay token (default: signer). A browser device authenticates as its person's
   * identity, so its first connection works before its device certificate reached the relay
   * (docs/decisions/0013); its records are still signed by the device key.
   */
  readonly authSigner?: SigningKeyPair;
  /** This device's X25519 keys: lockboxes addressed to it deliver new epoch keys. */
  readonly box?: BoxKeyPair;
  /** Also open lockboxes addressed to this recipient (a device's own identity). */
  readonly alsoRecipient?: { readonly publicKey: SigningPublicKey; readonly box: BoxKeyPair };
  readonly access: ProfileAccess;
  readonly relayUrl?: string;
  readonly persistence?: Persistence;
  readonly engine?: Ed25519Engine;
  readonly random?: RandomSource;
  readonly now?: () => number;
  readonly batchWindowMs?: number;
  /** Others count as active this long after one of their records (ProfileSync; decision 0021). */
  readonly othersActiveMs?: number;
  readonly compactEvery?: number;
  /** When to compact (default: the byte-ratio policy, sync/compaction.ts); `compactEvery` wins. */
  readonly compaction?: CompactionPolicy;
  readonly minReconnectDelayMs?: number;
  /** One relay connection attempt gives up after this long (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** The WebSocket to share with other profiles on the same relay (default: one of its own). */
  readonly relaySocket?: RelaySocket;
  /** Connect at once (default true when relayUrl is set). */
  readonly autoConnect?: boolean;
  /**
   * End time-limited access on its own when the time comes (default true; vault/expiry-sweep.ts).
   * Off only where a test drives every step itself (the seeded harness calls endExpiredAccess).
   */
  readonly expirySweep?: boolean;
  /**
   * This device's plain-state cache key (vault/plain-cache.ts): with a persistence that keeps
   * caches, the profile opens from the cache when there is one and verifies the stored
   * envelope in the background (docs/decisions/0020), and keeps the cache up to date.
   */
  readonly plainCache?: PlainCacheOptions;
  /**
   * A memory-only guest session (a clinician's live session): it promises that nothing of it is
   * kept on the device, so every download and export is refused (EXPORT_GUEST).
   */
  readonly memoryOnly?: boolean;
}

export type CreateProfileOptions = Omit<OpenProfileOptions, 'access'> & {
  /** Further members besides the creator (owner). */
  readonly members?: readonly MemberEntry[];
  /** For documents whose id must be re-derivable (a person's vault): fixed genesis nonce and epoch-0 key. */
  readonly genesisNonce?: Uint8Array;
  readonly epochKey?: SymmetricKey;
};

/** Injected time, randomness and keys of an open profile. */
interface ProfileContext {
  readonly engine: Ed25519Engine;
  readonly random: RandomSource;
  readonly now: () => number;
  readonly signer: SigningKeyPair;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

const TOKEN_LIFETIME_MS = 5 * 60 * 1000;

export class Profile {
  readonly name: string;
  readonly access: ProfileAccess;
  private readonly sync: ProfileSync;
  /** Made once the stored envelope is loaded (after a cached open that is after `open` returns). */
  private connection: RelayConnection | undefined;
  /** The connection's refusal, forwarded: stable for callers that take it before the connection exists. */
  private readonly refusalSeen = new Observable<string | null>(null);
  readonly status: Observable<SyncStatus>;
  private readonly plain: Y.Doc;
  private readonly statusModel: ProfileStatus;
  private readonly presenceModel: ProfilePresence;
  private readonly expirySweep: ExpirySweep;
  private readonly ctx: ProfileContext;
  private readonly envelope: Y.Doc;
  private readonly detachers: Array<() => void> = [];
  /** Typed health records (validated writes, per-record history). */
  readonly records: ProfileRecords;
  /** Same-field concurrent edits that lost a value of this device or to it (decision 0041). */
  readonly conflicts: ProfileConflicts;
  private undoController: UndoController | undefined;
  /** Bumped after every change to the plain doc, with the root names that changed. */
  readonly changes = new Observable<{ roots: ReadonlySet<string>; remote: boolean }>({ roots: new Set(), remote: false });
  private readonly notes = new Map<string, NoteHandle>();
  private readonly systemMaps = new Map<string, SystemMap<unknown>>();
  private readonly relay: { url: string; token: () => Promise<string> } | undefined;
  /** A memory-only guest session: no download or export of the record (OpenProfileOptions.memoryOnly). */
  memoryOnly = false;
  /** How this open used the plain-state cache: 'hit' (shown from it, then verified), or why not. */
  cacheRead: CacheRead['outcome'] = 'none';
  private readonly cache: ProfileCache;
  /** Numbers log entries for the edit count (vault/edit-count.ts). */
  private logEdits = 0;

  /** The relay's WebSocket URL, if this profile syncs through one. */
  get relayUrl(): string | undefined {
    return this.relay?.url;
  }

  /** A fresh short-lived relay token for this profile (what its connection sends; blob requests use it too). */
  relayToken(): Promise<string> {
    if (!this.relay) return Promise.reject(new VaultError('RELAY_NOT_CONFIGURED', 'this profile has no relay'));
    return this.relay.token();
  }

  private constructor(access: ProfileAccess, sync: ProfileSync, connection: RelayConnection | undefined, plain: Y.Doc, envelope: Y.Doc, ctx: ProfileContext, relay: Profile['relay']) {
    this.access = access;
    this.ctx = ctx;
    this.relay = relay;
    this.name = toBase64Url(access.docId);
    this.sync = sync;
    this.connection = connection;
    this.plain = plain;
    this.envelope = envelope;
    this.records = new ProfileRecords({
      doc: plain,
      me: toHex(sync.signerKey),
      now: () => ctx.now(),
      canWrite: () => this.canWrite,
      authorOfClient: (c) => sync.authorOfClient(c),
    });
    this.conflicts = new ProfileConflicts({ plain, records: this.records, me: toHex(sync.signerKey), authorOfClient: (c) => sync.authorOfClient(c), now: () => ctx.now() });
    this.detachers.push(() => this.conflicts.destroy());
    // The undo manager is made on first use or when the first own edit starts (it must see every
    // own edit), not on the way to the first screen.
    const beforeOwnEdit = (tr: Y.Transaction) => {
      if (tr.origin === LOCAL_ORIGIN && !this.undoController) void this.undo;
    };
    plain.on('beforeTransaction', beforeOwnEdit);
    this.detachers.push(() => plain.off('beforeTransaction', beforeOwnEdit));
    this.guardOwnWrites(sync);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the engine door reads the connection made later
    const profile = this;
    registerEngine(this, {
      sync,
      get connection() {
        return profile.connection;
      },
      plainDoc: plain,
      envelopeDoc: envelope,
    });
    const onTransaction = (tr: Y.Transaction) => {
      if (tr.changed.size === 0) return;
      const roots = changedRoots(plain, tr);
      // Before anyone hears of the change, so every read after it sees fresh records.
      this.records.invalidate(roots);
      this.changes.set({ roots, remote: tr.origin === REMOTE_ORIGIN });
      if (tr.origin !== REMOTE_ORIGIN) this.statusModel.noteEdits(editsOf(plain, tr, () => ++this.logEdits));
    };
    plain.on('afterTransaction', onTransaction);
    this.detachers.push(() => plain.off('afterTransaction', onTransaction));
    this.statusModel = new ProfileStatus(sync, undefined);
    this.cache = new ProfileCache({ docId: access.docId, plain, sync, status: this.statusModel, role: () => this.role, detachers: this.detachers });
    this.status = this.statusModel.status;
    this.presenceModel = new ProfilePresence({ docId: access.docId, sync, connection: undefined, ...ctx });
    this.expirySweep = new ExpirySweep({
      isOwner: () => this.isOwner,
      nextExpiry: () => nextExpiry(sync),
      now: () => ctx.now(),
      sweep: () => this.endExpiredAccess(),
      report: (problem) => this.statusModel.setSweepProblem(problem),
    });
    this.detachers.push(sync.membershipVersion.subscribe(() => this.expirySweep.arm()), () => this.expirySweep.stop());
    this.detachers.push(() => this.statusModel.destroy(), () => this.presenceModel.destroy());
    if (connection) this.attachConnection(connection);
  }

  /** Status, presence, refusals and compaction follow the relay connection from now on. */
  private attachConnection(connection: RelayConnection): void {
    this.connection = connection;
    this.statusModel.attachConnection(connection);
    this.presenceModel.attach(connection);
    this.sync.setCompactionGate(() => connection.synced.value);
    this.detachers.push(
      connection.refusal.subscribe((r) => this.refusalSeen.set(r)),
      connection.synced.subscribe((synced) => {
        if (synced) void this.sync.compactIfDue().catch(() => undefined);
      }),
    );
  }

  /** Creates a new profile: the caller's key becomes its first owner. */
  static async create(o: CreateProfileOptions): Promise<Profile> {
    const random = o.random ?? secureRandom;
    const genesisNonce = o.genesisNonce ?? random(GENESIS_NONCE_LENGTH);
    const docId = deriveDocId(o.signer.publicKey, genesisNonce);
    const access: ProfileAccess = { docId, epoch: 0, epochKeys: new Map([[0, o.epochKey ?? generateSymmetricKey(random)]]), genesisNonce };
    const profile = await Profile.open({ ...o, access, random, autoConnect: false });
    await writeGenesis(profile.sync, {
      nonce: genesisNonce,
      members: [{ publicKey: o.signer.publicKey, boxKey: o.box?.publicKey, role: Role.owner, expiresAt: 0 }, ...(o.members ?? [])],
    });
    if (o.relayUrl && o.autoConnect !== false) await profile.connect();
    return profile;
  }

  static async open(o: OpenProfileOptions): Promise<Profile> {
    const name = toBase64Url(o.access.docId);
    const cacheStore = o.plainCache ? o.persistence?.plainCache?.(name) : undefined;
    const sealed = cacheStore ? await readSealedCache(cacheStore) : undefined;
    // The decrypt starts now, on another thread; everything else is built meanwhile.
    const reading: Promise<CacheRead> | undefined =
      sealed && cacheStore && o.plainCache ? openStoredCache(sealed, cacheStore, o.access.docId, Math.max(...o.access.epochKeys.keys()), o.plainCache) : undefined;
    const engine = o.engine ?? (await defaultEd25519Engine());
    // Named guids: a random one costs a uuid each (no one reads them: the relay and stores use `name`).
    const plain = new Y.Doc({ guid: `plain:${name}` });
    const envelope = new Y.Doc({ guid: `envelope:${name}` });
    // Without a cache store, the stored envelope is loaded and verified before anything else.
    const detachPersistence = o.persistence && !reading ? await o.persistence(envelope, name) : undefined;
    const sync = ProfileSync.create({
      docId: o.access.docId,
      plain,
      envelope,
      signer: o.signer,
      engine,
      keys: new EpochKeyRing(o.access.epochKeys),
      box: o.box,
      alsoRecipient: o.alsoRecipient,
      random: o.random,
      now: o.now,
      batchWindowMs: o.batchWindowMs,
      othersActiveMs: o.othersActiveMs,
      compactEvery: o.compactEvery,
      compaction: o.compaction,
    });
    if (!reading) await sync.openFromEnvelope();
    const now = o.now ?? Date.now;
    const token = () =>
      createAuthToken({
        secretKey: (o.authSigner ?? o.signer).secretKey,
        docId: o.access.docId,
        expiresAt: now() + TOKEN_LIFETIME_MS,
        genesisNonce: o.access.genesisNonce,
        engine,
      });
    // The connection reads the stored envelope when made (its gate index, what it offers the
    // relay): it is made only once that is loaded.
    const makeConnection = o.relayUrl
      ? () =>
          new RelayConnection({
            url: o.relayUrl!,
            name,
            docId: o.access.docId,
            envelope,
            ownKeys: o.authSigner ? [o.signer.publicKey, o.authSigner.publicKey] : [o.signer.publicKey],
            engine,
            now,
            openAhead: (record) => sync.openAhead(record),
            minReconnectDelayMs: o.minReconnectDelayMs,
            connectTimeoutMs: o.connectTimeoutMs,
            token,
            socket: o.relaySocket?.url === o.relayUrl ? o.relaySocket : undefined,
          })
      : undefined;
    const ctx = { engine, random: o.random ?? secureRandom, now, signer: o.signer };
    const profile = new Profile(o.access, sync, reading ? undefined : makeConnection?.(), plain, envelope, ctx, o.relayUrl ? { url: o.relayUrl, token } : undefined);
    profile.memoryOnly = o.memoryOnly === true;
    if (o.expirySweep === false) profile.expirySweep.stop();
    else profile.expirySweep.arm();
    const autoConnect = makeConnection !== undefined && o.autoConnect !== false;
    if (reading && cacheStore && o.plainCache) {
      const read = await reading;
      profile.cacheRead = read.outcome;
      if (read.outcome === 'hit' && o.persistence) {
        sync.openFromCache(read.contents);
        profile.cache.keep(cacheStore, o.plainCache, false);
        const persistence = o.persistence;
        profile.cache.verifyInBackground(read.contents.writer, async () => profile.loaded(await persistence(envelope, name), makeConnection));
        if (autoConnect) void profile.connect().catch(() => undefined);
        return profile;
      }
      if (read.outcome === 'unreadable') {
        profile.statusModel.setCacheProblem({ code: 'SYNC_CACHE_UNREADABLE', message: 'the copy saved on this device could not be opened; it was set aside and the profile loaded from its records' });
      }
      // No usable cache: the full path, as if there were none.
      const detach = o.persistence ? await o.persistence(envelope, name) : undefined;
      await sync.openFromEnvelope();
      await profile.loaded(detach, makeConnection);
    } else await profile.loaded(detachPersistence, undefined);
    // Written once this open settles, so the next one can start from it.
    if (cacheStore && o.plainCache) profile.cache.keep(cacheStore, o.plainCache, true);
    if (autoConnect) await profile.connect();
    return profile;
  }

  /** The stored envelope is in: keep persisting, make the connection, count unconfirmed own records. */
  private async loaded(detach: Detach | undefined, makeConnection: (() => RelayConnection) | undefined): Promise<void> {
    if (detach) this.detachers.push(detach);
    if (makeConnection) this.attachConnection(makeConnection());
    if (detach?.meta) await this.statusModel.trackAcknowledged(detach.meta);
  }

  /**
   * Resolves once the stored records are verified: at once after a full open; after a cached
   * open, when the background check is over ('mismatch': the cache held unverified content).
   */
  whenVerified(): Promise<'verified' | 'mismatch'> {
    return this.cache.whenVerified();
  }

  /** Writes the plain-state cache now if it changed (the benchmark and tests; close does it too). */
  writeCache(): Promise<number> {
    return this.cache.writeNow();
  }

  /** Undo/redo of this device's own edits. */
  get undo(): UndoController {
    return (this.undoController ??= new UndoController(this.plain, this.records));
  }

  /** Other people here now (verified, decrypted presence), newest first. */
  get presence(): Observable<PresenceEntry[]> {
    return this.presenceModel.others;
  }

  /** Shares who you are and where (encrypted, signed); refreshed while the profile is open. */
  setPresence(state: PresenceState): Promise<void> {
    return this.presenceModel.set(state);
  }

  async connect(): Promise<void> {
    // After a cached open, the relay hears from this device once its own copy is loaded.
    await this.cache.whenVerified();
    await this.connection?.connect();
  }

  disconnect(): void {
    this.connection?.disconnect();
  }

  /** The network is back: reconnect now instead of at the end of the back-off (no-op if not wanted). */
  reconnectNow(): void {
    this.statusModel.setBrowserOnline(true);
    this.connection?.reconnectNow();
  }

  /** The network is gone: show offline now instead of when the dead socket is noticed. */
  networkLost(): void {
    this.statusModel.setBrowserOnline(false);
    this.connection?.networkLost();
  }

  /** Seals pending local edits, and if connected waits until the relay acknowledged them. */
  async flush(timeoutMs = 30_000): Promise<void> {
    // After a cached open, edits are sealed only once the stored records are verified.
    await this.cache.settled();
    await this.sync.flush();
    if (this.connection?.connection.value === 'connected') {
      await this.status.when((s) => s.connection !== 'connected' || (s.pending === 0 && s.synced), timeoutMs);
    }
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
  private requireWriter(): void {
    const role = this.role;
    if (role !== undefined && !isWriterRole(role)) throw new VaultError('RECORD_READ_ONLY', 'you can view this profile but not change it');
  }

  /**
   * Every membership record and snapshot this profile signs passes the author check the relay
   * applies (protocol/membership.ts `check`), so a path that forgot its own check still signs
   * nothing it may not: set, remove, rotate and invite are an owner's; revoke-device an owner's
   * or the device's own person's; a snapshot a writer's.
   */
  private guardOwnWrites(sync: ProfileSync): void {
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

  /** A collaborative note by name (joins the undo scope). */
  note(name: string): NoteHandle {
    let handle = this.notes.get(name);
    if (!handle) {
      handle = new NoteHandle(this.plain, name, () => this.requireWriter());
      this.undo.track(handle.type);
      this.notes.set(name, handle);
    }
    return handle;
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

  setDisplayName(name: string): void {
    const me = toHex(this.sync.signerKey);
    const clean = name.trim().slice(0, 64);
    if (!clean || this.displayNames().get(me) === clean || !this.canWrite) return;
    this.systemMap(MEMBER_NAMES_MAP).set(me, clean);
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

  /** Owners: add or change a member (clinicians get a fresh epoch without history by default). */
  async addMember(member: MemberEntry, o: { history?: boolean } = {}): Promise<void> {
    await this.cache.verifiedFirst();
    this.requireOwner('add people or change their role');
    await grant(this.sync, member, o);
    await this.audit('grant', member.publicKey, `role ${member.role}`);
  }

  /** Owners: remove a member and rotate the key; their connections are closed by the relay. */
  async removeMember(publicKey: SigningPublicKey): Promise<void> {
    await this.cache.verifiedFirst();
    this.requireOwner('remove people');
    await revoke(this.sync, publicKey);
    await this.audit('revoke', publicKey);
    await this.audit('rotate', undefined, `epoch ${this.sync.currentEpoch}`);
  }

  /** Owners: end every session or membership whose time is up (relay already cut them off), and rotate. */
  async endExpiredAccess(): Promise<number> {
    await this.cache.verifiedFirst();
    this.requireOwner('end sessions');
    const ended = await removeExpired(this.sync);
    if (ended > 0) await this.audit('session-end', undefined, `${ended} ended; epoch ${this.sync.currentEpoch}`);
    return ended;
  }

  /** Owners: a new epoch key for everyone current (lockboxes) and a snapshot under it. */
  async rotateKey(): Promise<number> {
    await this.cache.verifiedFirst();
    this.requireOwner('change the profile key');
    const epoch = await rotate(this.sync);
    await this.audit('rotate', undefined, `epoch ${epoch}`);
    return epoch;
  }

  /**
   * Owners: orders the profile deleted everywhere (decision 0035). The erase record is sealed
   * like any owner record and resolves once the relay stored it; the relay then drops the
   * profile and refuses it for good (PROFILE_ERASED). The caller drops this device's copy.
   */
  async eraseEverywhere(timeoutMs = 30_000): Promise<{ erasedAt: number; record: string }> {
    await this.cache.verifiedFirst();
    this.requireOwner('delete this profile everywhere');
    const erasedAt = this.ctx.now();
    const record = await this.sync.appendErase(erasedAt);
    await this.flush(timeoutMs);
    return { erasedAt, record };
  }

  /** Appends an event to this device's signed audit chain in the profile. */
  async audit(kind: AuditKindName, subject?: Uint8Array, detail?: string): Promise<void> {
    await this.cache.verifiedFirst();
    await recordAudit(this.sync, { signer: this.ctx.signer, engine: this.ctx.engine, kind, subject, detail, now: this.ctx.now() });
  }

  /** The verified audit trail (every device's chain checked). */
  async auditTrail(): Promise<AuditTrail> {
    await this.cache.verifiedFirst();
    return readAuditTrail(this.sync, this.ctx.engine);
  }

  /** The decrypted record for export; the export itself is audited. */
  async exportJSON(): Promise<Record<string, unknown>> {
    this.requireMayExport();
    await this.cache.verifiedFirst();
    await this.audit('export');
    return this.toJSON();
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

  async close(): Promise<void> {
    // Edits queued while the check ran are sealed only after it: wait for it.
    await this.cache.settled();
    this.undoController?.destroy();
    await this.sync.flush();
    await this.cache.writeNow().catch(() => undefined);
    this.sync.destroy();
    this.connection?.destroy();
    for (const d of this.detachers.splice(0)) d();
    this.plain.destroy();
    this.envelope.destroy();
  }
}
