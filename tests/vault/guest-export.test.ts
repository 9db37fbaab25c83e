/**
 * A memory-only guest (a clinician's live session) cannot take the record away: every export
 * path of the facade refuses with EXPORT_GUEST, before anything is read or audited.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { joinAsGuest } from '../../src/lib/vault/browser.ts';
import { VaultError } from '../../src/lib/vault/errors.ts';
import { exportCsvLogs, exportDocument } from '../../src/lib/vault/export.ts';
import { startClinicianSession } from '../../src/lib/vault/invite.ts';
import { exportPdf } from '../../src/lib/vault/pdf-export.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();

const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(VaultError);
  return (e as VaultError).code;
};

describe('guest export', () => {
  it('a memory-only guest gets EXPORT_GUEST from every export; the owner exports as before', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const owner = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => owner.close());
    owner.records.put('allergies', { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } });
    await owner.flush();
    const inv = await startClinicianSession(owner, { origin: 'https://vault.example', minutes: 30, canEdit: false });
    const guest = await joinAsGuest({ store: memoryDeviceStore(), relayUrl: relay.url, minReconnectDelayMs: 50 }, inv.link);
    cleanups.push(() => guest.close());
    await eventually(() => guest.records.get('allergies', 'pen') !== undefined);
    expect(guest.memoryOnly).toBe(true);
    expect(await refusal(guest.exportJSON())).toBe('EXPORT_GUEST');
    expect(await refusal(exportDocument(guest, 'fhir'))).toBe('EXPORT_GUEST');
    expect(await refusal(exportDocument(guest, 'ips'))).toBe('EXPORT_GUEST');
    expect(await refusal(exportCsvLogs(guest, ['vitals']))).toBe('EXPORT_GUEST');
    expect(await refusal(exportPdf(guest, 'emergency', {} as never, new Date()))).toBe('EXPORT_GUEST');
    // The owner's device is no guest: its export works (and is audited).
    expect(owner.memoryOnly).toBe(false);
    expect(JSON.stringify(await owner.exportJSON())).toContain('Penicillin');
  });
});
