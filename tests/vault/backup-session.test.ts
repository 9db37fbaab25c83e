/**
 * The app's backup through the vault facade (docs/decisions/0033): a person's vault and profiles
 * in one archive without plaintext; restored on a fresh install as a new device of the same
 * identity, readable before the relay answers, then syncing both ways with the first device
 * through the real relay. A wrong code and an existing vault are refused with nothing stored.
 */
import { describe, expect, it } from 'vitest';
import { createPerson } from '../../src/lib/vault/person.ts';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { backupFileName } from '../../src/lib/vault/backup-session.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { VaultSession, type SessionEnv } from '../../src/lib/vault/session.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const CANARY = 'CANARY-APP-BACKUP-91c2';
const allergy = (id: string, text: string) => ({ id, schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text } });

function deviceEnv(relayUrl?: string): SessionEnv & { dir: string } {
  const dir = tempDir();
  const store = sqlitePersistence(dir.path);
  cleanups.push(() => {
    store.close();
    dir.remove();
  });
  return { store: memoryDeviceStore(), persistence: store.persistence, relayUrl, minReconnectDelayMs: 50, timeoutMs: 10_000, dir: dir.path };
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (e) {
    if (e instanceof VaultError) return e.code;
    throw e;
  }
}

describe('app backup and restore', () => {
  it('backs up, restores on a fresh install as a new device, and keeps syncing', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const { session: laptop, recoveryCode } = await VaultSession.create(deviceEnv(relay.url), { displayName: 'Ana', deviceLabel: 'Laptop' });
    cleanups.push(() => laptop.close());
    const entry = await laptop.createProfile({ name: 'Mum', relationship: 'mother' });
    const mum = await laptop.openProfile(entry.docId);
    mum.records.put('allergies', allergy('pen', `${CANARY} Penicillin`));
    mum.note('visits').replace(0, 0, `Cardiology ${CANARY}`);
    await mum.flush();

    const phases = new Set<string>();
    const file = await laptop.backup({ progress: (p) => phases.add(p.phase) });
    expect([...phases]).toEqual(['collect', 'seal']);
    const text = Buffer.from(file);
    for (const needle of [CANARY, Buffer.from(CANARY).toString('base64url'), 'Penicillin', 'Cardiology', 'Mum', 'mother']) expect(text.includes(Buffer.from(needle)), needle).toBe(false);
    expect(backupFileName(Date.UTC(2026, 11, 2))).toBe('family-vault-backup-2026-12-02.fhvbackup');

    // Refusals first, on a fresh install: nothing is stored by any of them.
    const other = createPerson();
    const refused = deviceEnv(relay.url);
    expect(await codeOf(VaultSession.restoreFromBackup(refused, { file, code: other.recoveryCode, deviceLabel: 'Phone' }))).toBe('BACKUP_WRONG_CODE');
    expect(await codeOf(VaultSession.restoreFromBackup(refused, { file: file.subarray(0, file.length - 1), code: recoveryCode, deviceLabel: 'Phone' }))).toBe('BACKUP_DAMAGED');
    expect(await codeOf(VaultSession.restoreFromBackup(refused, { file, code: 'not a code', deviceLabel: 'Phone' }))).toBe('RECOVERY_MALFORMED');
    expect(await refused.store.load()).toBeUndefined();

    // The restore itself: readable at once from the device's own store (offline), a new device.
    const fresh = deviceEnv(relay.url);
    const restorePhases = new Set<string>();
    const phone = await VaultSession.restoreFromBackup(fresh, { file, code: recoveryCode, deviceLabel: 'Phone', progress: (p) => restorePhases.add(p.phase) });
    cleanups.push(() => phone.close());
    expect([...restorePhases]).toEqual(['open', 'verify', 'store']);
    expect(phone.displayName).toBe('Ana');
    expect(phone.profiles()).toEqual(laptop.profiles());
    expect(phone.deviceId).not.toBe(laptop.deviceId);
    const phoneMum = await phone.openProfile(entry.docId);
    expect(phoneMum.toJSON()).toEqual(mum.toJSON());
    expect(phoneMum.note('visits').text).toBe(`Cardiology ${CANARY}`);

    // Keeps syncing, both ways, through the relay.
    await eventually(() => phoneMum.canWrite);
    phoneMum.records.put('allergies', allergy('latex', 'Latex'));
    await phoneMum.flush();
    await eventually(() => mum.records.get('allergies', 'latex')?.code.text === 'Latex');
    mum.records.put('allergies', allergy('nuts', 'Nuts'));
    await mum.flush();
    await eventually(() => phoneMum.records.get('allergies', 'nuts')?.code.text === 'Nuts');
    // The laptop sees the new device in the vault.
    await eventually(() => laptop.devices().some((d) => d.key === phone.deviceId));

    // A device that already holds a vault refuses a restore.
    expect(await codeOf(VaultSession.restoreFromBackup(fresh, { file, code: recoveryCode, deviceLabel: 'Again' }))).toBe('BACKUP_VAULT_EXISTS');
  });
});
