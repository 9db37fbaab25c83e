/**
 * The typed facade over one profile: its plain doc, envelope doc, local persistence, relay
 * connection and sync status. The UI, CLI and tests use this, never yjs or the provider.
 * What it reads and checks is in profile-view.ts, the owner's operations and the audit chain
 * in profile-admin.ts (the classes it extends), its options in profile-options.ts and the
 * parts an open builds in profile-wiring.ts; this module wires them and opens the profile.
 */
import * as Y from 'yjs';
import { defaultEd25519Engine, generateSymmetricKey, secureRandom, toBase64Url, toHex } from '../crypto/index.ts';
import { deriveDocId, GENESIS_NONCE_LENGTH, Role } from '../protocol/index.ts';
import { Observable } from '../sync/observable.ts';
import { nextExpiry, writeGenesis } from '../sync/admin.ts';
import { ExpirySweep } from './expiry-sweep.ts';
import type { ProfileSync } from '../sync/profile-sync.ts';
import { CATCH_UP_HOLD_MS } from '../sync/catch-up-hold.ts';
import type { RelayConnection } from '../sync/relay-connection.ts';
/** Whether a connection's refusal means this device's access ended (the one table: sync/refusals.ts). */
export { endsAccess } from '../sync/refusals.ts';
import type { PresenceEntry, PresenceState } from '../sync/presence.ts';
import { ProfilePresence } from './profile-presence.ts';
import { ProfileStatus } from './profile-status.ts';
import { ProfileConflicts } from './profile-conflicts.ts';
import { editsOf } from './edit-count.ts';
import type { SyncStatus } from '../sync/status.ts';
import { REMOTE_ORIGIN } from '../sync/profile-sync.ts';
import { LOCAL_ORIGIN, ProfileRecords } from './records.ts';
import { changedRoots } from './roots.ts';
import { UndoController } from './undo.ts';
import { NoteHandle } from './note.ts';
import { MEMBER_NAMES_MAP } from '../../../crdt-schemas/system.ts';
import { registerEngine } from './engine.ts';
import { openStoredCache, readSealedCache, type CacheRead } from './plain-cache.ts';
import { ProfileCache } from './profile-cache.ts';
import type { Detach } from '../storage/types.ts';
import { ProfileAdmin } from './profile-admin.ts';
import type { CreateProfileOptions, OpenProfileOptions, ProfileAccess, ProfileContext } from './profile-options.ts';
import { connectionMakerOf, endCatchUpHoldOn, profileSyncOf, relayTokenOf } from './profile-wiring.ts';

export type { CreateProfileOptions, OpenProfileOptions, ProfileAccess } from './profile-options.ts';
export type { JsonValue } from './profile-view.ts';
export type { Persistence } from '../storage/types.ts';

export class Profile extends ProfileAdmin {
  /** Made once the stored envelope is loaded (after a cached open that is after `open` returns). */
  private connection: RelayConnection | undefined;
  readonly status: Observable<SyncStatus>;
  private readonly statusModel: ProfileStatus;
  private readonly presenceModel: ProfilePresence;
  private readonly expirySweep: ExpirySweep;
  private readonly envelope: Y.Doc;
  private readonly detachers: Array<() => void> = [];
  /** Typed health records (validated writes, per-record history). */
  readonly records: ProfileRecords;
  /** Same-field concurrent edits that lost a value of this device or to it (decision 0041). */
  readonly conflicts: ProfileConflicts;
  private undoController: UndoController | undefined;
  private readonly notes = new Map<string, NoteHandle>();
  /** How this open used the plain-state cache: 'hit' (shown from it, then verified), or why not. */
  cacheRead: CacheRead['outcome'] = 'none';
  protected readonly cache: ProfileCache;
  /** Numbers log entries for the edit count (vault/edit-count.ts). */
  private logEdits = 0;
  /**
   * This copy held records of this device's own chain when opened (or is a cached copy), so the
   * relay may hold later ones that it lost: its first connect holds own records until the
   * catch-up (decision 0065). A new profile, a first join, and a copy this device never wrote to
   * (a profile created here, opened as the device for the first time) hold none.
   */
  private mayBeBehind = false;

  private constructor(access: ProfileAccess, sync: ProfileSync, connection: RelayConnection | undefined, plain: Y.Doc, envelope: Y.Doc, ctx: ProfileContext, relay: Profile['relay']) {
    super(access, sync, plain, ctx, relay);
    this.connection = connection;
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
      ...endCatchUpHoldOn(connection, this.sync),
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
    const sync = profileSyncOf(o, plain, envelope, engine);
    if (!reading) await sync.openFromEnvelope();
    const now = o.now ?? Date.now;
    const token = relayTokenOf(o, engine, now);
    // The connection reads the stored envelope when made (its gate index, what it offers the
    // relay): it is made only once that is loaded.
    const makeConnection = connectionMakerOf(o, { name, envelope, engine, now, sync, token });
    const ctx = { engine, random: o.random ?? secureRandom, now, signer: o.signer };
    const profile = new Profile(o.access, sync, reading ? undefined : makeConnection?.(), plain, envelope, ctx, o.relayUrl ? { url: o.relayUrl, token } : undefined);
    profile.memoryOnly = o.memoryOnly === true;
    // A cached copy, or stored records of this device's chain: see `mayBeBehind`.
    profile.mayBeBehind = reading !== undefined || sync.ownHead.seq > 0;
    // The sweep seals own records: a copy that may be behind the relay starts it at its first
    // connect, once they are held (decision 0065); sealing at the open forked its chain.
    if (o.expirySweep === false) profile.expirySweep.stop();
    else if (!profile.holdsAtConnect) profile.expirySweep.start();
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
    // A store that commits late: the relay gets a change only once this device has it (decision
    // 0063). Its barrier covers a change only if the store's write started first: the store's
    // update handler is registered before the connection's on every open path (above).
    if (detach?.stored) this.connection?.sendOnceStored(detach.stored);
    if (detach?.meta) await this.statusModel.trackAcknowledged(detach.meta);
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

  /** The first connect holds own records until the catch-up (decision 0065). */
  private get holdsAtConnect(): boolean {
    return this.mayBeBehind && this.relay !== undefined;
  }

  async connect(): Promise<void> {
    let held = false;
    if (this.holdsAtConnect) {
      // Once: before anything awaits, so no own record is sealed between the open and the hold.
      // Not while the browser says it is offline (nor after networkLost): no catch-up can come.
      this.mayBeBehind = false;
      held = !this.statusModel.offlineByBrowser;
      if (held) this.sync.holdOwnRecords();
      // Its records wait for the catch-up now (not started at the open: see `open`).
      this.expirySweep.start();
    }
    try {
      // After a cached open, the relay hears from this device once its own copy is loaded.
      await this.cache.whenVerified();
    } finally {
      // The bound counts from asking the relay: a slow load of the stored records used it up.
      if (held) this.sync.boundOwnRecordHold(CATCH_UP_HOLD_MS);
    }
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
    this.sync.endOwnRecordHold();
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

  setDisplayName(name: string): void {
    const me = toHex(this.sync.signerKey);
    const clean = name.trim().slice(0, 64);
    if (!clean || this.displayNames().get(me) === clean || !this.canWrite) return;
    this.systemMap(MEMBER_NAMES_MAP).set(me, clean);
  }

  async close(): Promise<void> {
    // Edits queued while the check ran are sealed only after it: wait for it.
    await this.cache.settled();
    this.undoController?.destroy();
    // Closing seals what was typed, never dropped: after the catch-up if it can still come
    // within the hold's bound (sync.flush waits for the hold: 5 s at most from asking the relay),
    // since sealing from a copy behind the relay forks its chain for good (decision 0065).
    await this.sync.flush();
    await this.cache.writeNow().catch(() => undefined);
    this.sync.destroy();
    this.connection?.destroy();
    for (const d of this.detachers.splice(0)) d();
    this.plain.destroy();
    this.envelope.destroy();
  }
}
