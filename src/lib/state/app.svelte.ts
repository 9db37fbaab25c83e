/**
 * The app's top-level state: who is set up on this device, their family list, and the profiles
 * open now. One instance per tab, shared through context (context.ts).
 *
 * The vault code (Yjs, the provider, crypto, schemas: most of the app's JavaScript) is loaded
 * with a dynamic import: a device with nobody set up shows onboarding after one IndexedDB read
 * and fetches it right after; a device with a person set up fetches it at once.
 */
import type { BackupPhase, DeviceView, SessionEnv, VaultEntry, VaultSession } from '../vault/browser.ts';
import { describeError, indexeddbDeviceStore } from '../vault/browser-shell.ts';
import type { SyncStatus } from '../vault/app.ts';
import type { ProfileState } from './profile.svelte.ts';
import { Subscribed } from './subscribed.svelte.ts';

type VaultModule = typeof import('../vault/browser.ts');
let vaultModule: Promise<VaultModule> | undefined;
/** The vault code, loaded once (the bundler makes it a chunk of its own). */
const loadVault = (): Promise<VaultModule> => (vaultModule ??= import('../vault/browser.ts'));
const loadProfileState = async () => (await import('./profile.svelte.ts')).ProfileState;

export type Phase = 'loading' | 'onboarding' | 'ready' | 'error';

export interface BackupProgressView {
  readonly phase: BackupPhase;
  readonly done: number;
  readonly total: number;
}

export class AppState {
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
  private readonly env: SessionEnv;
  /** The full environment, when it needs the vault code (the browser's IndexedDB persistence). */
  private readonly completeEnv: (() => Promise<SessionEnv>) | undefined;
  private fullEnv: Promise<SessionEnv> | undefined;
  private readonly opened = new Map<string, Promise<ProfileState>>();
  private familySub = $state.raw<Subscribed<VaultEntry[]> | undefined>(undefined);
  private statusSub = $state.raw<Subscribed<SyncStatus> | undefined>(undefined);

  /** `env` needs at least the device store; `complete` (if given) makes the full one once the vault code is in. */
  constructor(env: SessionEnv, origin: string, complete?: () => Promise<SessionEnv>) {
    this.env = env;
    this.origin = origin;
    this.completeEnv = complete;
  }

  static forBrowser(): AppState {
    const relayUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`;
    return new AppState({ store: indexeddbDeviceStore(), relayUrl }, location.origin, async () => (await loadVault()).browserEnv(relayUrl));
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
      if (!(await this.env.store.load())) {
        this.phase = 'onboarding';
        // Fetched once onboarding is on screen, so it does not compete with the first paint.
        setTimeout(() => void loadVault().catch(() => undefined), 0);
        return;
      }
      const { VaultSession } = await loadVault();
      const session = await VaultSession.resume(await this.sessionEnv());
      if (session) this.adopt(session);
      else this.phase = 'onboarding';
    } catch (e) {
      this.error = describeError(e);
      this.phase = 'error';
    }
  }

  get displayName(): string {
    return this.session?.displayName ?? '';
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

  recoveryCode(): string | null {
    return this.session?.recoveryCode() ?? null;
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
    return (await this.run(async () => this.adopt(await (await loadVault()).VaultSession.joinWithLink(await this.sessionEnv(), url, o)))) === undefined;
  }

  async revokeOwnDevice(key: string): Promise<void> {
    await this.run(() => this.session!.revokeDevice(key));
  }

  /** Sync state of the family vault (the list itself). */
  get vaultStatus(): SyncStatus | undefined {
    return this.statusSub?.read();
  }

  /** Creates the person and this device; returns the recovery code to show once. */
  createIdentity(o: { displayName: string; deviceLabel: string }): Promise<string | null> {
    return this.run(async () => {
      const { session, recoveryCode } = await (await loadVault()).VaultSession.create(await this.sessionEnv(), o);
      this.adopt(session);
      return recoveryCode;
    });
  }

  async restore(o: { code: string; displayName: string; deviceLabel: string }): Promise<boolean> {
    return (await this.run(async () => this.adopt(await (await loadVault()).VaultSession.restore(await this.sessionEnv(), o)))) === undefined;
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
        try {
          const { VaultSession } = await loadVault();
          this.adopt(await VaultSession.restoreFromBackup(await this.sessionEnv(), { ...o, displayName: o.displayName || undefined, progress: (p) => (this.backupProgress = p) }));
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
      p = Promise.all([session.openProfile(docId), loadProfileState()]).then(([profile, ProfileState]) => {
        // An owner erased it (decision 0035): once the signed order verifies, drop it here too.
        const stop = profile.refusal.subscribe((r) => {
          if (r !== 'PROFILE_ERASED') return;
          queueMicrotask(() => stop());
          this.opened.delete(docId);
          void this.run(() => session.dropErasedProfile(docId));
        });
        return new ProfileState(profile, { displayName: this.displayName, origin: this.origin });
      });
      p.catch(() => this.opened.delete(docId));
      this.opened.set(docId, p);
    }
    return p;
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
      if (typeof window !== 'undefined') {
        window.removeEventListener('online', this.onOnline);
        window.removeEventListener('offline', this.onOffline);
      }
      this.session = undefined;
      this.familySub = undefined;
      this.statusSub = undefined;
      this.opened.clear();
      this.phase = 'onboarding';
    });
  }

  /** The browser's network events, for the session's shared sockets (the family vault's included). */
  private readonly onOnline = (): void => this.session?.reconnectNow();
  private stopErasureWatch: () => void = () => undefined;
  private readonly onOffline = (): void => this.session?.networkLost();

  private adopt(session: VaultSession): void {
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
    this.statusSub = new Subscribed((notify) => vault.status.subscribe(notify), () => vault.status.value);
    this.phase = 'ready';
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
