/**
 * The app's backups (docs/decisions/0033): a person's family vault and every profile it lists,
 * sealed under their recovery code; restored on a fresh install as a NEW device of the same
 * identity (VaultSession.restoreFromBackup enrolls it), never as the old device's keys, so two
 * installs never write on one author chain.
 *
 * Restore order: the code opens the archive; the vault document is verified first (its id and
 * key are derived from the seed, so nothing in the archive chooses them); every profile must be
 * listed in that verified vault and is verified with the keys the vault gives; only then is
 * anything written to the device's store.
 */
import { toBase64Url } from '../crypto/index.ts';
import type { Persistence } from '../storage/types.ts';
import { openArchive, sealArchive } from './backup-format.ts';
import { decodePayload, encodePayload, envelopeBytes, envelopeState, storeEnvelope, verifyBackupDoc, type BackupDoc, type BackupProgress, type VerifiedDoc } from './backup.ts';
import { VaultError } from './errors.ts';
import type { Person } from './person.ts';
import { accessInVault, vaultAccess, type PersonVault, type VaultEntry } from './person-vault.ts';
import type { Profile } from './profile.ts';
import type { SessionEnv } from './session-open.ts';

/** The file name the app offers: what and when, nothing about whose (no PHI). */
export const backupFileName = (now: number): string => `family-vault-backup-${new Date(now).toISOString().slice(0, 10)}.fhvbackup`;

export interface AppBackupSource {
  readonly person: Person;
  readonly vault: PersonVault;
  readonly displayName: string;
  profiles(): VaultEntry[];
  openProfile(docId: string): Promise<Profile>;
}

/** Seals the vault and every profile it lists, as this device holds them (no relay needed). */
export async function makeAppBackup(s: AppBackupSource, o: { now?: () => number; random?: (n: number) => Uint8Array; progress?: BackupProgress } = {}): Promise<Uint8Array> {
  const entries = s.profiles();
  const total = entries.length + 1;
  const docs: BackupDoc[] = [{ name: toBase64Url(vaultAccess(s.person).docId), envelope: toBase64Url(envelopeState(s.vault.profile)) }];
  o.progress?.({ phase: 'collect', done: 1, total });
  for (const [i, entry] of entries.entries()) {
    const profile = await s.openProfile(entry.docId);
    docs.push({ name: entry.docId, envelope: toBase64Url(envelopeState(profile)) });
    o.progress?.({ phase: 'collect', done: i + 2, total });
  }
  const body = encodePayload({ format: 'fhv-backup', v: 1, kind: 'app', createdAt: (o.now ?? Date.now)(), identity: { displayName: s.displayName }, docs });
  const file = sealArchive(s.person.identity.seed, body, { random: o.random, progress: (done, all) => o.progress?.({ phase: 'seal', done, total: all }) });
  body.fill(0);
  return file;
}

/**
 * Opens and verifies an app backup for `person`, then writes its envelopes into `persistence`.
 * Returns the display name it carried. Throws (BACKUP_*, RECOVERY_*) with nothing written.
 */
export async function restoreAppBackup(env: SessionEnv & { persistence: Persistence }, person: Person, file: Uint8Array, progress?: BackupProgress): Promise<{ displayName: string | undefined }> {
  const payload = decodePayload(openArchive(person.identity.seed, file, { progress: (done, total) => progress?.({ phase: 'open', done, total }) }));
  if (payload.kind !== 'app') throw new VaultError('BACKUP_VERSION', 'this backup was made by the command-line client: restore it there');
  const access = vaultAccess(person);
  const vaultName = toBase64Url(access.docId);
  const vaultDoc = payload.docs.find((d) => d.name === vaultName);
  if (!vaultDoc) throw new VaultError('BACKUP_REJECTED', 'a document in the backup failed verification (no family vault); nothing was restored');
  const common = { signer: person.identity.signing, box: person.identity.box, engine: env.engine, now: env.now };
  const verified: VerifiedDoc[] = [];
  try {
    const vault = await verifyBackupDoc(vaultName, envelopeBytes(vaultDoc), { ...common, access });
    verified.push(vault);
    for (const [i, doc] of payload.docs.entries()) {
      progress?.({ phase: 'verify', done: i + 1, total: payload.docs.length });
      if (doc === vaultDoc) continue;
      // Only what the verified vault lists, with the keys it gives: the archive chooses no keys.
      let profileAccess;
      try {
        profileAccess = accessInVault(vault.profile, doc.name);
      } catch {
        throw new VaultError('BACKUP_REJECTED', 'a document in the backup failed verification (not in the family vault); nothing was restored');
      }
      verified.push(await verifyBackupDoc(doc.name, envelopeBytes(doc), { ...common, access: profileAccess }));
    }
  } finally {
    for (const v of verified) await v.profile.close();
  }
  try {
    for (const [i, v] of verified.entries()) {
      await storeEnvelope(env.persistence, v.name, v.update);
      progress?.({ phase: 'store', done: i + 1, total: verified.length });
    }
  } catch (e) {
    await env.erase?.(verified.map((v) => v.name));
    throw e;
  }
  const name = payload.identity.displayName;
  return { displayName: typeof name === 'string' ? name : undefined };
}
