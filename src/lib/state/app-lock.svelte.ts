/**
 * The app lock as the app uses it (docs/decisions/0043): whether one is set and which, unlocking,
 * locking now or after an idle time, re-confirming before the recovery code is shown, and the
 * emergency cards the owner chose to leave readable on the lock screen.
 *
 * Locking closes the session: the keys, the opened profiles and the plain-state cache key leave
 * memory with it; the lock screen shows no health data but those chosen cards.
 */
import { indexeddbEmergencyStore, keepEmergencyCopy, readEmergencyCopies, type EmergencyStore } from '../vault/emergency-copy.ts';
import { describeError } from '../vault/browser-shell.ts';
import type { EmergencyCardData } from './emergency.ts';
import type { ProfileState } from './profile.svelte.ts';
import type { SessionEnv, VaultEntry, VaultSession } from '../vault/browser.ts';

type DeviceStore = SessionEnv['store'];

type LockModule = typeof import('../vault/app-lock-session.ts');
type UnlockedKeys = Awaited<ReturnType<LockModule['unlockWithPasskey']>>;
const loadLock = async (): Promise<LockModule> => (await import('../vault/browser.ts')).appLock;

/** What the lock needs from the app state. */
export interface LockHost {
  readonly session: VaultSession | undefined;
  readonly family: VaultEntry[];
  open(docId: string): Promise<ProfileState>;
  /** Opens the session (with the keys a passkey gave back, if any) and shows the app. */
  resumeUnlocked(keys?: UnlockedKeys): Promise<void>;
  /** Closes the session and shows the lock screen; `dropCaches` after the keys changed. */
  closeForLock(o?: { dropCaches?: boolean }): Promise<void>;
}

const ACTIVITY = ['pointerdown', 'keydown', 'wheel', 'touchstart', 'input'] as const;

export class AppLockState {
  kind = $state<'none' | 'passkey' | 'pin'>('none');
  idleMinutes = $state(5);
  /** A message for the lock screen or settings (never PHI). */
  error = $state<string | null>(null);
  busy = $state(false);
  /** The emergency cards readable while locked (on the lock screen only). */
  cards = $state.raw<Array<{ docId: string; contents: EmergencyCardData }>>([]);
  /** Profiles whose emergency card the owner chose to leave readable while locked. */
  chosen = $state.raw<ReadonlySet<string>>(new Set());
  /** Set while a confirmation (before the recovery code) waits for the person. */
  confirming = $state<'pin' | 'passkey' | null>(null);
  private resolveConfirm: ((ok: boolean) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly host: LockHost;
  private readonly store: DeviceStore;
  private readonly emergency: EmergencyStore;

  constructor(host: LockHost, store: DeviceStore, emergency: EmergencyStore = indexeddbEmergencyStore()) {
    this.host = host;
    this.store = store;
    this.emergency = emergency;
  }

  /** Reads the lock and the chosen cards from the device (no key is touched). */
  async refresh(): Promise<void> {
    const lock = (await this.store.load())?.lock;
    this.kind = lock?.kind ?? 'none';
    this.idleMinutes = lock?.idleMinutes ?? 5;
    this.chosen = new Set((await this.emergency.all().catch(() => [])).map((c) => c.docId));
  }

  /** The lock screen's state: the lock, and the chosen cards opened. */
  async showLocked(): Promise<void> {
    this.stopIdle();
    await this.refresh();
    this.cards = await readEmergencyCopies<EmergencyCardData>(this.emergency).catch(() => []);
  }

  unlockWithPasskey(): Promise<boolean> {
    return this.act(async () => this.host.resumeUnlocked(await (await loadLock()).unlockWithPasskey(this.store)));
  }

  unlockWithPin(pin: string): Promise<boolean> {
    return this.act(async () => {
      await (await loadLock()).checkPin(this.store, pin);
      await this.host.resumeUnlocked();
    });
  }

  /** Locks now: the chosen cards are refreshed from the open profiles first, then the session closes. */
  async lockNow(): Promise<void> {
    if (this.kind === 'none' || !this.host.session) return;
    this.stopIdle();
    await this.refreshCopies().catch(() => undefined);
    await this.host.closeForLock();
    await this.showLocked();
  }

  enablePasskey(): Promise<boolean> {
    return this.act(async () => {
      const keys = await (await loadLock()).lockWithNewPasskey(this.store, this.session(), this.idleMinutes);
      await this.reopen(keys);
    });
  }

  enablePin(pin: string): Promise<boolean> {
    return this.act(async () => {
      await (await loadLock()).enablePinLock(this.store, pin, { idleMinutes: this.idleMinutes });
      await this.refresh();
      this.startIdle();
    });
  }

  /** Turns the lock off; a passkey lock asks for the passkey first. */
  disable(): Promise<boolean> {
    return this.act(async () => {
      if (!(await this.confirm())) return;
      await this.reopen(await (await loadLock()).removeLock(this.store, this.session()));
    });
  }

  setIdle(minutes: number): Promise<boolean> {
    return this.act(async () => {
      await (await loadLock()).setIdleMinutes(this.store, minutes);
      await this.refresh();
      this.startIdle();
    });
  }

  /** Leaves (or stops leaving) a profile's emergency card readable while locked. */
  setEmergencyCopy(docId: string, on: boolean): Promise<boolean> {
    return this.act(async () => {
      if (on) await this.copyCard(docId);
      else await this.emergency.remove(docId);
      await this.refresh();
    });
  }

  /**
   * Asks for the passkey or PIN again (before the recovery code is shown, or the lock is turned
   * off). True at once without a lock.
   */
  async confirm(): Promise<boolean> {
    this.error = null;
    if (this.kind === 'none') return true;
    if (this.kind === 'passkey') {
      try {
        await (await loadLock()).unlockWithPasskey(this.store);
        return true;
      } catch (e) {
        this.error = describeError(e);
        return false;
      }
    }
    this.confirming = 'pin';
    return new Promise((resolve) => (this.resolveConfirm = resolve));
  }

  /** The PIN typed in the confirmation dialog (null: cancelled). */
  async answerConfirm(pin: string | null): Promise<void> {
    if (pin === null) return this.endConfirm(false);
    try {
      await (await loadLock()).checkPin(this.store, pin);
      this.endConfirm(true);
    } catch (e) {
      this.error = describeError(e);
    }
  }

  /** Leaving the device: the chosen cards go too. */
  async forget(): Promise<void> {
    this.stopIdle();
    await this.emergency.clear().catch(() => undefined);
    this.kind = 'none';
    this.chosen = new Set();
    this.cards = [];
  }

  /** Starts (or restarts) the idle timer: with a lock, the app locks after `idleMinutes` without input. */
  startIdle(): void {
    this.stopIdle();
    if (this.kind === 'none' || typeof window === 'undefined') return;
    for (const e of ACTIVITY) window.addEventListener(e, this.onActivity, { passive: true, capture: true });
    this.arm();
  }

  stopIdle(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (typeof window !== 'undefined') for (const e of ACTIVITY) window.removeEventListener(e, this.onActivity, { capture: true });
  }

  private readonly onActivity = (): void => this.arm();

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.lockNow(), this.idleMinutes * 60_000);
  }

  private endConfirm(ok: boolean): void {
    this.confirming = null;
    this.resolveConfirm?.(ok);
    this.resolveConfirm = undefined;
  }

  private session(): VaultSession {
    const s = this.host.session;
    if (!s) throw new Error('no session');
    return s;
  }

  /** The session goes on with the keys now in force (closing it drops the old ones from memory). */
  private async reopen(keys: UnlockedKeys): Promise<void> {
    await this.refresh();
    await this.host.closeForLock({ dropCaches: true });
    await this.host.resumeUnlocked(keys);
  }

  private async copyCard(docId: string): Promise<void> {
    const [{ emergencyCard }, p] = await Promise.all([import('./care.ts'), this.host.open(docId)]);
    await keepEmergencyCopy(this.emergency, docId, emergencyCard(p, new Date()));
  }

  /** Brings every chosen card up to date from the profiles, while they are still open. */
  private async refreshCopies(): Promise<void> {
    const family = new Set(this.host.family.map((e) => e.docId));
    for (const docId of this.chosen) {
      if (family.has(docId)) await this.copyCard(docId);
      else await this.emergency.remove(docId);
    }
  }

  private async act(action: () => Promise<void>): Promise<boolean> {
    this.error = null;
    this.busy = true;
    try {
      await action();
      return true;
    } catch (e) {
      this.error = describeError(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
