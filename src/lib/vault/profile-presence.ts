/**
 * Presence over the relay's awareness channel: this device's state sealed and signed under the
 * current epoch (refreshed while the profile is open), and everyone else's opened and checked
 * against the membership (verified entries only, newest first).
 */
import type { Ed25519Engine, RandomSource, SigningKeyPair } from '../crypto/index.ts';
import { Observable } from '../sync/observable.ts';
import { openPresence, sealPresence, type PresenceEntry, type PresenceState } from '../sync/presence.ts';
import type { ProfileSync } from '../sync/profile-sync.ts';
import type { RelayConnection } from '../sync/relay-connection.ts';

const REFRESH_MS = 20_000;

export interface PresenceContext {
  readonly docId: Uint8Array;
  readonly sync: ProfileSync;
  /** Attached later (attach) after a cached open: the connection is made once the envelope is loaded. */
  connection: RelayConnection | undefined;
  readonly engine: Ed25519Engine;
  readonly random: RandomSource;
  readonly now: () => number;
  readonly signer: SigningKeyPair;
}

export class ProfilePresence {
  /** Other people here now (verified, decrypted presence), newest first. */
  readonly others = new Observable<PresenceEntry[]>([]);
  private readonly c: PresenceContext;
  private state: PresenceState | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private detach: (() => void) | undefined;

  constructor(c: PresenceContext) {
    this.c = { ...c };
    if (c.connection) this.attach(c.connection);
  }

  /** Follows this connection's presence (once; a cached open attaches it after loading the envelope). */
  attach(connection: RelayConnection): void {
    this.c.connection = connection;
    const c = this.c;
    const awareness = connection.provider.awareness;
    if (!awareness) return;
    const refresh = async () => {
      const entries: PresenceEntry[] = [];
      for (const [clientId, state] of awareness.getStates()) {
        if (clientId === awareness.clientID) continue;
        const entry = await openPresence((state as { p?: unknown }).p, {
          docId: c.docId,
          keys: c.sync.keys,
          engine: c.engine,
          now: c.now(),
          roleOf: (pk) => c.sync.index.membership.roleOf(pk, c.now()),
        });
        if (entry) entries.push(entry);
      }
      this.others.set(entries.sort((a, b) => b.at - a.at));
    };
    const onChange = () => void refresh();
    awareness.on('change', onChange);
    this.detach = () => awareness.off('change', onChange);
    if (this.state) void this.publish();
  }

  /** Shares who you are and where (encrypted, signed); refreshed while the profile is open. */
  async set(state: PresenceState): Promise<void> {
    this.state = state;
    await this.publish();
    this.timer ??= setInterval(() => void this.publish(), REFRESH_MS);
  }

  destroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.detach?.();
  }

  private async publish(): Promise<void> {
    const awareness = this.c.connection?.provider.awareness;
    if (!awareness || !this.state) return;
    const blob = await sealPresence({
      state: this.state,
      docId: this.c.docId,
      epoch: this.c.sync.currentEpoch,
      keys: this.c.sync.keys,
      signer: this.c.signer,
      engine: this.c.engine,
      random: this.c.random,
      now: this.c.now(),
    });
    if (blob) awareness.setLocalStateField('p', blob);
  }
}
