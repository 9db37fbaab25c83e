/**
 * A person's family vault (docs/decisions/0009): one encrypted profile document per person
 * whose id and epoch-0 key are re-derivable from the identity seed, so the recovery code alone
 * finds and opens it. It lists the profiles the person can open, with their keys.
 *   genesisNonce = H("fhv/vault-nonce/v1", seed)[0..16)    docId = H(identity ‖ genesisNonce)
 *   epochKey     = H("fhv/vault-key/v1", seed)              creator = identity (owner)
 * Every device writes with its own key (certified in the vault), so devices never share a chain.
 */
import {
  fromBase64Url,
  hashWithDomain,
  toBase64Url,
  type RandomSource,
  type SymmetricKey,
} from '../crypto/index.ts';
import { deriveDocId, GENESIS_NONCE_LENGTH, type RoleName } from '../protocol/index.ts';
import type { Persistence } from '../storage/types.ts';
import { openAsDevice, VaultError, type Device, type Person } from './person.ts';
import { Profile, type ProfileAccess } from './profile.ts';
import { engineOf } from './engine.ts';
import { PROFILES_MAP, type VaultEntry } from '../../../crdt-schemas/system.ts';

export const VAULT_SECTION = 'profiles';
export const LINK_SECTION = 'device-links';

export function vaultAccess(person: Person): ProfileAccess & { genesisNonce: Uint8Array } {
  const seed = person.identity.seed;
  const genesisNonce = hashWithDomain('fhv/vault-nonce/v1', seed).slice(0, GENESIS_NONCE_LENGTH);
  const key = hashWithDomain('fhv/vault-key/v1', seed) as Uint8Array as SymmetricKey;
  return { docId: deriveDocId(person.identity.signing.publicKey, genesisNonce), epoch: 0, epochKeys: new Map([[0, key]]), genesisNonce };
}

/** One profile a person's vault holds (validated: crdt-schemas/system.ts). */
export type { VaultEntry } from '../../../crdt-schemas/system.ts';

export interface OpenVaultOptions {
  readonly person: Person;
  readonly device: Device;
  readonly relayUrl?: string;
  readonly persistence?: Persistence;
  /** First device only: write the vault's genesis (signed by the identity). */
  readonly create?: boolean;
  readonly random?: RandomSource;
  readonly now?: () => number;
  readonly minReconnectDelayMs?: number;
  readonly timeoutMs?: number;
}

/** A profile's access as a vault document lists it (also used on a vault being restored, before any session). */
export function accessInVault(vault: Profile, docId: string): ProfileAccess {
  const entry = vault.systemMap(PROFILES_MAP).get(docId);
  if (!entry) throw new VaultError('PROFILE_UNKNOWN', 'this profile is not in the vault');
  const epochKeys = new Map<number, SymmetricKey>();
  for (const [epoch, key] of Object.entries(entry.epochKeys)) epochKeys.set(Number(epoch), fromBase64Url(key) as SymmetricKey);
  return {
    docId: fromBase64Url(entry.docId),
    epoch: entry.epoch,
    epochKeys,
    ...(entry.genesisNonce ? { genesisNonce: fromBase64Url(entry.genesisNonce) } : {}),
  };
}

export class PersonVault {
  readonly person: Person;
  readonly device: Device;
  readonly profile: Profile;

  private constructor(person: Person, device: Device, profile: Profile) {
    this.person = person;
    this.device = device;
    this.profile = profile;
  }

  /** Wraps a vault profile already opened as one of the person's devices (the app's offline path). */
  static attach(person: Person, device: Device, profile: Profile): PersonVault {
    return new PersonVault(person, device, profile);
  }

  static async open(o: OpenVaultOptions): Promise<PersonVault> {
    const access = vaultAccess(o.person);
    const common = { relayUrl: o.relayUrl, persistence: o.persistence, random: o.random, now: o.now, minReconnectDelayMs: o.minReconnectDelayMs };
    if (o.create) {
      const genesis = await Profile.create({
        ...common,
        signer: o.person.identity.signing,
        box: o.person.identity.box,
        genesisNonce: access.genesisNonce,
        epochKey: access.epochKeys.get(0),
      });
      await genesis.flush(o.timeoutMs);
      await genesis.close();
    }
    const profile = await openAsDevice({ ...common, access, person: o.person, device: o.device, timeoutMs: o.timeoutMs });
    if (o.relayUrl) {
      try {
        await profile.status.when((s) => s.synced, o.timeoutMs ?? 30_000);
      } catch {
        await profile.close();
        throw new VaultError('RELAY_UNREACHABLE', 'the vault could not be synced from the relay');
      }
    }
    if (!engineOf(profile).sync.index.membership.hasGenesis) {
      await profile.close();
      throw new VaultError('VAULT_NOT_FOUND', 'no vault exists for this identity');
    }
    return new PersonVault(o.person, o.device, profile);
  }

  /** Records a profile the person can open (its keys go into the encrypted vault). */
  async addProfile(o: { name: string; relationship: string; access: ProfileAccess; role: RoleName }): Promise<VaultEntry> {
    const epochKeys: Record<string, string> = {};
    for (const [epoch, key] of o.access.epochKeys) epochKeys[String(epoch)] = toBase64Url(key);
    const entry: VaultEntry = {
      name: o.name,
      relationship: o.relationship,
      docId: toBase64Url(o.access.docId),
      role: o.role,
      epoch: o.access.epoch,
      epochKeys,
      ...(o.access.genesisNonce ? { genesisNonce: toBase64Url(o.access.genesisNonce) } : {}),
    };
    this.profile.systemMap(PROFILES_MAP).set(entry.docId, entry);
    await this.profile.flush();
    return entry;
  }

  /** Forgets a profile and its keys (an erased profile, decision 0035). */
  async removeProfile(docId: string): Promise<void> {
    this.profile.systemMap(PROFILES_MAP).delete(docId);
    await this.profile.flush();
  }

  listProfiles(): VaultEntry[] {
    return this.profile.systemMap(PROFILES_MAP).entries().map(([, e]) => e).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  accessFor(docId: string | Uint8Array): ProfileAccess {
    const id = typeof docId === 'string' ? docId : toBase64Url(docId);
    return accessInVault(this.profile, id);
  }

  async flush(): Promise<void> {
    await this.profile.flush();
  }

  async close(): Promise<void> {
    await this.profile.close();
  }
}
