/**
 * The app's top-level state: who is set up on this device, their family list, and the profiles
 * open now. One instance per tab, shared through context (context.ts).
 *
 * The vault code (Yjs, the provider, crypto, schemas: most of the app's JavaScript) is loaded
 * with a dynamic import: a device with nobody set up shows onboarding after one IndexedDB read
 * and fetches it right after; a device with a person set up fetches it at once.
 */
import type { BackupPhase, DeviceView, InvitePreview, SessionEnv, VaultEntry, VaultSession } from '../vault/browser.ts';
import { describeError, indexeddbDeviceStore } from '../vault/browser-shell.ts';
import type { RoleName, SyncStatus } from '../vault/app.ts';
import type { ProfileState } from './profile.svelte.ts';
import { Subscribed } from './subscribed.svelte.ts';
import { AppLockState, type LockHost } from './app-lock.svelte.ts';
import { TabClaim } from './tab-claim.ts';

type VaultModule = typeof import('../vault/browser.ts');
let vaultModule: Promise<VaultModule> | undefined;
/** The vault code, loaded once (the bundler makes it a chunk of its own). */
const loadVault = (): Promise<VaultModule> => (vaultModule ??= import('../vault/browser.ts'));
const loadProfileState = async () => (await import('./profile.svelte.ts')).ProfileState;

/** `elsewhere`: another tab of this browser uses the vault (tab-claim.ts). */
export type Phase = 'loading' | 'onboarding' | 'ready' | 'locked' | 'error' | 'elsewhere';

export interface BackupProgressView {
  readonly phase: BackupPhase;
  readonly done: number;
  readonly total: number;
}

export class AppState implements LockHost {
  phase = $state<Phase>('loading');
  /** A message for the person (never PHI); cleared by their next action. */
  error = $state<string | null>(null);
  /** True while an action runs (buttons show progress and stay disabled). */
  busy = $state(false);
  session = $state.raw<VaultSession | undefined>(undefined);
  /** A backup or restore under way: what it is doing and how far (for a progress bar). */
  backupProgress = $state<BackupProgressView | null>(null);
  /** A guest's (e.g. a clinician's) live session, in memory only. */
  guest = $state.raw<ProfileState | undefined>(undefined);
  readonly origin: string;
  /** The app lock (docs/decisions/0043). */
  readonly lock: AppLockState;
  private readonly env: SessionEnv;
  /** The full environment, when it needs the vault code (the browser's IndexedDB persistence). */
  private readonly completeEnv: (() => Promise<SessionEnv>) | undefined;
  private fullEnv: Promise<SessionEnv> | undefined;
  private readonly opened = new Map<string, Promise<ProfileState>>();
  private familySub = $state.raw<Subscribed<VaultEntry[]> | undefined>(undefined);
  private statusSub = $state.raw<Subscribed<SyncStatus> | undefined>(undefined);

  /** One tab at a time uses the vault (decision 0064). */
  private readonly tab: TabClaim;

  /**
   * `env` needs at least the device store; `complete` (if given) makes the full one once the
   * vault code is in; `tabs` are the browser's (without them every tab may use the vault).
   */
  constructor(env: SessionEnv, origin: string, complete?: () => Promise<SessionEnv>, tabs?: { locks: LockManager; channel: () => BroadcastChannel }) {
    this.env = env;
    this.origin = origin;
    this.completeEnv = complete;
    this.lock = new AppLockState(this, env.store);
    this.tab = new TabClaim({ locks: tabs?.locks, channel: tabs?.channel, letGo: () => this.letGoOfVault() });
  }

  static forBrowser(): AppState {
    const relayUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
    const tabs = navigator.locks && typeof BroadcastChannel === 'function' ? { locks: navigator.locks, channel: () => new BroadcastChannel('fhv-vault-tab') } : undefined;
    return new AppState({ store: indexeddbDeviceStore(), relayUrl }, location.origin, async () => (await loadVault()).browserEnv(relayUrl), tabs);
  }

  private sessionEnv(): Promise<SessionEnv> {
    return (this.fullEnv ??= this.completeEnv ? this.completeEnv() : Promise.resolve(this.env));
  }

  async init(): Promise<void> {
    // WebCrypto, IndexedDB key wrapping and the service worker exist only in secure contexts.
    if (globalThis.isSecureContext === false) {
      this.error = 'Open this app over https (or on localhost): the browser offers its encryption only on secure connections.';
      this.phase = 'error';
      return;
    }
    try {
      const stored = await this.env.store.load();
      if (stored && !(await this.tab.claim())) {
        this.phase = 'elsewhere';
        return;
      }
      if (stored?.lock) {
        // Locked on open: nothing is unwrapped until the person unlocks.
        await this.lock.showLocked();
        this.phase = 'locked';
        return;
      }
      if (!stored) {
        this.phase = 'onboarding';
        // Fetched once onboarding is on screen, so it does not compete with the first paint.
        setTimeout(() => void loadVault().catch(() => undefined), 0);
        return;
      }
      await this.track(this.resumeSession());
    } catch (e) {
      this.error = describeError(e);
      this.phase = 'error';
    }
  }

  private async resumeSession(): Promise<void> {
    const { VaultSession } = await loadVault();
    const session = await VaultSession.resume(await this.sessionEnv());
    if (session) await this.adopt(session);
    else this.phase = 'onboarding';
  }

  /** Opens a session and adopts it, as one piece of session work (a handover waits for all of it). */
  private openAndAdopt(open: () => Promise<VaultSession>): Promise<void> {
    return this.track((async () => this.adopt(await open()))());
  }

  /** The session work under way (opening, closing): a handover to another tab waits for it. */
  private inFlight: Promise<unknown> = Promise.resolve();

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight = work.catch(() => undefined);
    return work;
  }

  /** Before a vault is made or restored here: this tab must hold the vault (else another tab uses it). */
  private async claimTab(): Promise<boolean> {
    if (await this.tab.claim()) return true;
    this.phase = 'elsewhere';
    return false;
  }

  /** The person's name (from their vault: a rename on another of their devices shows here too). */
  get displayName(): string {
    this.familySub?.read();
    return this.session?.displayName ?? '';
  }

  /** Renames the person everywhere (decision 0038); false with `error` set if refused. */
  async renameSelf(name: string): Promise<boolean> {
    return (await this.run(async () => (await loadVault()).renameSelf(this.session!, name))) !== null;
  }

  /** The person's own, private name for a profile ("Mum"); false with `error` set if refused. */
  async setNickname(docId: string, nickname: string): Promise<boolean> {
    return (await this.run(async () => (await loadVault()).setNickname(this.session!, docId, nickname))) !== null;
  }

  /**
   * Leaves a profile ('leave': the owners see them gone) or, once access has ended, only drops it
   * ('forget'); either way its copy and keys leave this device and the person's vault.
   */
  async dropProfile(docId: string, how: 'leave' | 'forget'): Promise<boolean> {
    const done = await this.run(async () => {
      if (how === 'leave') await (await loadVault()).leaveAndForget(this.session!, docId);
      else await this.session!.forgetProfile(docId);
      this.opened.delete(docId);
      return true;
    });
    return done === true;
  }

  /** The family list; changes when any device of this person adds a profile. */
  get family(): VaultEntry[] {
    return this.familySub?.read() ?? [];
  }

  get deviceLabel(): string {
    return this.session?.device.label ?? '';
  }

  get deviceId(): string {
    return this.session?.deviceId ?? '';
  }

  /** This person's devices (reactive with the vault). */
  get devices(): Array<DeviceView & { label: string | undefined }> {
    this.familySub?.read();
    return this.session?.devices() ?? [];
  }

  /** The recovery code, once the person confirmed with their passkey or PIN (with a lock set). */
  async recoveryCode(): Promise<string | null> {
    if (!this.session || !(await this.lock.confirm())) return null;
    return this.session.recoveryCode();
  }

  /** After unlocking: the session opens again (with the keys a passkey gave back, if any). */
  async resumeUnlocked(keys?: Parameters<VaultModule['VaultSession']['resume']>[1]): Promise<void> {
    await this.track(this.resumeWith(keys));
  }

  private async resumeWith(keys?: Parameters<VaultModule['VaultSession']['resume']>[1]): Promise<void> {
    const { VaultSession } = await loadVault();
    const session = await VaultSession.resume(await this.sessionEnv(), keys);
    if (!session) {
      this.phase = 'onboarding';
      return;
    }
    await this.adopt(session);
  }

  /** Another tab uses the vault: take it over here (that tab closes its session first). */
  async useHere(): Promise<void> {
    this.phase = 'loading';
    try {
      await this.tab.takeOver();
    } catch (e) {
      this.error = describeError(e);
      this.phase = 'elsewhere';
      return;
    }
    await this.init();
  }

  /** Another tab takes the vault over: this one closes its session (its edits sealed and stored) and says so. */
  private async letGoOfVault(): Promise<void> {
    // An open or a close under way ends first (an open then finds the vault gone: see adopt).
    await this.inFlight;
    const session = this.session;
    this.detach();
    this.phase = 'elsewhere';
    await session?.close();
  }

  /** Locking: the session closes (its keys and open profiles leave memory) and the lock screen shows. */
  closeForLock(o: { dropCaches?: boolean } = {}): Promise<void> {
    return this.track(this.closeSessionForLock(o));
  }

  private async closeSessionForLock(o: { dropCaches?: boolean }): Promise<void> {
    const session = this.session;
    const names = session ? [session.vault.profile.name, ...session.profiles().map((p) => p.docId)] : [];
    this.detach();
    this.phase = 'locked';
    await session?.close();
    // The keys changed (lock set or removed): caches sealed under the old cache key are dropped
    // here, not met later as unreadable.
    if (o.dropCaches) {
      const caches = (await this.sessionEnv()).persistence?.plainCache;
      await Promise.all(names.map((n) => caches?.(n).clear().catch(() => undefined)));
    }
  }

  private detach(): void {
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline);
      window.removeEventListener('offline', this.onOffline);
    }
    this.lock.stopIdle();
    // Reminders read the profiles about to close (decision 0044): they stop with them.
    this.stopReminderResume();
    this.stopReminderResume = () => undefined;
    void import('./reminders.svelte.ts').then((m) => m.stopAllReminders());
    this.session = undefined;
    this.familySub = undefined;
    this.statusSub = undefined;
    this.opened.clear();
  }

  /** A one-time link (QR) for adding another device of this person. */
  linkNewDevice(): Promise<{ url: string; linkId: string; expiresAt: number } | null> {
    return this.run(() => this.session!.createDeviceLink(this.origin));
  }

  /** The label of the device that used a link, or null while it is unused (reactive). */
  deviceLinkUsedBy(linkId: string): string | null {
    this.familySub?.read();
    return this.session?.deviceLinkUsedBy(linkId) ?? null;
  }

  /** This new device joins its person's vault from a link another of their devices shows. */
  async joinWithLink(url: string, o: { displayName: string; deviceLabel: string }): Promise<boolean> {
    if (!(await this.claimTab())) return false;
    return (await this.run(async () => this.openAndAdopt(async () => (await loadVault()).VaultSession.joinWithLink(await this.sessionEnv(), url, o)))) === undefined;
  }

  async revokeOwnDevice(key: string): Promise<void> {
    await this.run(() => this.session!.revokeDevice(key));
  }

  /** Sync state of the family vault (the list itself). */
  get vaultStatus(): SyncStatus | undefined {
    return this.statusSub?.read();
  }

  /** The profile on screen now (its layout sets and clears it): the one indicator follows it. */
  onScreen = $state.raw<ProfileState | undefined>(undefined);

  /** What the screen's one sync indicator shows: the open profile's sync, else the family list's. */
  get screenStatus(): SyncStatus | undefined {
    return this.onScreen ? this.onScreen.status : this.vaultStatus;
  }

  /** Creates the person and this device; returns the recovery code to show once. */
  createIdentity(o: { displayName: string; deviceLabel: string }): Promise<string | null> {
    return this.run(async () => {
      if (!(await this.claimTab())) return null;
      let recoveryCode = '';
      await this.openAndAdopt(async () => {
        const made = await (await loadVault()).VaultSession.create(await this.sessionEnv(), o);
        recoveryCode = made.recoveryCode;
        return made.session;
      });
      return recoveryCode;
    });
  }

  async restore(o: { code: string; displayName: string; deviceLabel: string }): Promise<boolean> {
    if (!(await this.claimTab())) return false;
    return (await this.run(async () => this.openAndAdopt(async () => (await loadVault()).VaultSession.restore(await this.sessionEnv(), o)))) === undefined;
  }

  /** One encrypted backup of everything this person can open, with a file name that carries no PHI. */
  downloadBackup(): Promise<{ name: string; bytes: Uint8Array } | null> {
    return this.run(async () => {
      const { backupFileName } = await loadVault();
      try {
        const bytes = await this.session!.backup({ progress: (p) => (this.backupProgress = p) });
        return { name: backupFileName(Date.now()), bytes };
      } finally {
        this.backupProgress = null;
      }
    });
  }

  /** A fresh install from a backup file and the recovery code (a new device of the same person). */
  async restoreFromBackup(o: { file: Uint8Array; code: string; displayName: string; deviceLabel: string }): Promise<boolean> {
    return (
      (await this.run(async () => {
        if (!(await this.claimTab())) return null;
        try {
          const { VaultSession } = await loadVault();
          await this.openAndAdopt(async () => VaultSession.restoreFromBackup(await this.sessionEnv(), { ...o, displayName: o.displayName || undefined, progress: (p) => (this.backupProgress = p) }));
        } finally {
          this.backupProgress = null;
        }
      })) === undefined
    );
  }

  /**
   * Owners: deletes a profile everywhere once its nickname is typed again (decision 0035): the
   * relay drops it, this device drops its copy and keys; other devices drop theirs when they
   * learn of it. True once done.
   */
  async eraseProfile(docId: string, typedName: string): Promise<boolean> {
    const done = await this.run(async () => {
      await this.session!.eraseProfileEverywhere(docId, typedName);
      this.opened.delete(docId);
      return true;
    });
    return done === true;
  }

  addFamilyMember(o: { name: string; relationship: string }): Promise<VaultEntry | null> {
    return this.run(async () => {
      const entry = await this.session!.createProfile(o);
      (await this.open(entry.docId)).setPatientName(o.name);
      return entry;
    });
  }

  /** The open profile for a document of the family list (or the guest session). */
  open(docId: string): Promise<ProfileState> {
    if (this.guest?.docId === docId) return Promise.resolve(this.guest);
    let p = this.opened.get(docId);
    if (!p) {
      const session = this.session;
      if (!session) return Promise.reject(new Error('not set up'));
      // A profile the vault does not list (yet: right after a reload its list may still be
      // loading) throws at once: a rejection, so the screen can say so and try again.
      p = Promise.all([Promise.resolve().then(() => session.openProfile(docId)), loadProfileState()]).then(([profile, ProfileState]) => {
        // An owner erased it (decision 0035): once the signed order verifies, drop it here too.
        const stop = profile.refusal.subscribe((r) => {
          if (r !== 'PROFILE_ERASED') return;
          queueMicrotask(() => stop());
          this.opened.delete(docId);
          void this.run(() => session.dropErasedProfile(docId));
        });
        // eslint-disable-next-line @typescript-eslint/no-this-alias -- the name is read on use (renames)
        const app = this;
        return new ProfileState(profile, {
          get displayName() {
            return app.displayName;
          },
          deviceLabel: session.device.label,
          origin: this.origin,
        });
      });
      p.catch(() => this.opened.delete(docId));
      this.opened.set(docId, p);
    }
    return p;
  }

  /** What an invite grants, read without using it (null: refused or unreachable; the message is in `error`). */
  previewInvite(link: string): Promise<(InvitePreview & { roleName: RoleName }) | null> {
    return this.run(async () => (await loadVault()).previewInvite(await this.sessionEnv(), link));
  }

  /** Joins from an invite link: into this person's vault, or as a guest if nobody is set up here. */
  join(link: string, o: { name: string; relationship: string; displayName: string }): Promise<string | null> {
    return this.run(async () => {
      if (this.session) return (await this.session.acceptInvitation(link, o)).docId;
      const profile = await (await loadVault()).joinAsGuest(await this.sessionEnv(), link);
      const ProfileState = await loadProfileState();
      this.guest = new ProfileState(profile, { displayName: o.displayName.trim() || 'Guest', origin: this.origin, guest: true });
      return this.guest.docId;
    });
  }

  async forgetDevice(): Promise<void> {
    await this.run(async () => {
      this.stopErasureWatch();
      await this.session?.forgetDevice();
      this.detach();
      await this.lock.forget();
      this.phase = 'onboarding';
    });
  }

  /** The browser's network events, for the session's shared sockets (the family vault's included). */
  private readonly onOnline = (): void => this.session?.reconnectNow();
  private stopErasureWatch: () => void = () => undefined;
  private readonly onOffline = (): void => this.session?.networkLost();

  private async adopt(session: VaultSession): Promise<void> {
    // Handed over to another tab while it opened: closed again, unused, before the lock goes.
    if (!this.tab.held) {
      this.phase = 'elsewhere';
      await session.close();
      return;
    }
    const vault = session.vault.profile;
    this.session = session;
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline);
      window.addEventListener('offline', this.onOffline);
    }
    session.onRevoked(() => void this.leaveRevoked());
    // Erased profiles are dropped when the vault connects (start, reconnect), opened or not.
    this.stopErasureWatch = session.watchErasures({ onDropped: (docId) => this.opened.delete(docId) });
    this.familySub = new Subscribed((notify) => vault.watch(notify), () => session.profiles());
    this.stopReminderResume = this.resumeReminders(session);
    this.statusSub = new Subscribed((notify) => vault.status.subscribe(notify), () => vault.status.value);
    this.phase = 'ready';
    this.lock.startIdle();
  }

  private stopReminderResume: () => void = () => undefined;

  /**
   * Reminders turned on for a profile run from the start of the session (decision 0044), not only
   * once its medicines page is visited again after a reload or an unlock: each profile of the
   * family list whose stored choice is "on" is opened (kept like any profile opened) and its
   * reminders started, also for profiles the list gains later (another device's join).
   */
  private resumeReminders(session: VaultSession): () => void {
    const seen = new Set<string>();
    const resume = () => {
      for (const { docId } of session.profiles()) {
        if (seen.has(docId)) continue;
        seen.add(docId);
        void import('./reminders.svelte.ts').then(async (m) => {
          if (!m.remindersWanted(docId)) return;
          const p = await this.open(docId).catch(() => undefined);
          if (p && this.session === session) m.remindersFor(p);
        });
      }
    };
    resume();
    return session.vault.profile.watch(resume);
  }

  /** Another device of this person revoked this one: its keys and encrypted copies go. */
  private async leaveRevoked(): Promise<void> {
    await this.forgetDevice();
    this.error = 'This device was removed from your vault by one of your other devices. Its keys and copies are gone.';
  }

  /** Runs an action; a failure becomes a message (typed code → human text), never a thrown error. */
  private async run<T>(action: () => Promise<T>): Promise<T | null> {
    this.error = null;
    this.busy = true;
    try {
      return await action();
    } catch (e) {
      this.error = describeError(e);
      return null;
    } finally {
      this.busy = false;
    }
  }
}
