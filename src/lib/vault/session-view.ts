/**
 * The read side of a vault session (session.ts `VaultSession` extends it): who the person and
 * this device are, the profiles and devices their vault lists, whether this device was revoked.
 * Nothing here opens a profile, writes or connects. Separate so that session.ts holds the
 * session's operations; the app still sees one object.
 */
import { encodeRecoveryCode, toHex } from '../crypto/index.ts';
import { DEVICE_LABELS_MAP } from '../../../crdt-schemas/system.ts';
import type { RelaySockets } from '../sync/relay-socket.ts';
import { linkStatus } from './device-link.ts';
import { engineOf } from './engine.ts';
import { personName } from './names.ts';
import { membersOf, type DeviceView } from './people.ts';
import { deviceId, type Device, type Person } from './person.ts';
import type { PersonVault, VaultEntry } from './person-vault.ts';
import { withPersistence, type SessionEnv } from './session-open.ts';

export abstract class VaultSessionView {
  readonly person: Person;
  readonly device: Device;
  readonly vault: PersonVault;
  /** The name this device was set up with (its person's vault may hold a newer one: `displayName`). */
  private readonly storedName: string;
  protected readonly env: SessionEnv;
  /** One WebSocket per relay for the vault and every profile this session opens (docs/decisions/0024). */
  protected readonly sockets: RelaySockets;
  /** This device's plain-state cache key (docs/decisions/0020). */
  protected readonly cacheKey: CryptoKey | undefined;

  protected constructor(env: SessionEnv, sockets: RelaySockets, person: Person, device: Device, vault: PersonVault, displayName: string, cacheKey: CryptoKey | undefined) {
    this.env = withPersistence(env);
    this.sockets = sockets;
    this.cacheKey = cacheKey;
    this.person = person;
    this.device = device;
    this.vault = vault;
    this.storedName = displayName;
  }

  /** The person's name: as their vault keeps it (renamed on any of their devices), else as set up here. */
  get displayName(): string {
    return personName(this.vault.profile, toHex(this.person.identity.signing.publicKey)) ?? this.storedName;
  }

  /** Which device used a link (label), or null while unused. */
  deviceLinkUsedBy(linkId: string): string | null {
    const used = linkStatus(this.vault, linkId)?.usedBy;
    if (!used) return null;
    return this.devices().find((d) => d.key === used)?.label ?? 'a new device';
  }

  get deviceId(): string {
    return deviceId(this.device);
  }

  profiles(): VaultEntry[] {
    return this.vault.listProfiles();
  }

  /** Another of the person's devices revoked this one (the app then removes its keys and copies). */
  get revoked(): boolean {
    return engineOf(this.vault.profile).sync.index.membership.state().revokedDevices.has(this.deviceId);
  }

  /** Calls back once if this device is revoked while open (or already is). */
  onRevoked(fn: () => void): () => void {
    let fired = false;
    return engineOf(this.vault.profile).sync.applied.subscribe(() => {
      if (fired || !this.revoked) return;
      fired = true;
      queueMicrotask(fn);
    });
  }

  /** The recovery code again (for the person's eyes only; it is the identity). */
  recoveryCode(): string {
    return encodeRecoveryCode(this.person.identity.seed);
  }

  /** This person's devices, as certified in their vault, with the labels they gave themselves. */
  devices(): Array<DeviceView & { label: string | undefined }> {
    const me = toHex(this.person.identity.signing.publicKey);
    const label = (key: string) => this.vault.profile.systemMap(DEVICE_LABELS_MAP).get(key);
    return (membersOf(this.vault.profile).find((m) => m.key === me)?.devices ?? []).map((d) => ({ ...d, label: label(d.key) }));
  }
}
