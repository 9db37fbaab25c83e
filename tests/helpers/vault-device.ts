/**
 * A person's device for vault-session tests: a SQLite store in its own temp dir (removed after
 * the test), and a family to join: Ana's profile of Dad with a penicillin allergy, synced
 * through a fresh relay.
 */
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { VaultSession, type SessionEnv } from '../../src/lib/vault/session.ts';
import { tempDir, testRelay } from './relay.ts';

type Cleanups = Array<() => Promise<void> | void>;

export const ALLERGY = { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } };

export function deviceEnv(cleanups: Cleanups, relayUrl?: string): SessionEnv {
  const dir = tempDir();
  const store = sqlitePersistence(dir.path);
  cleanups.push(() => {
    store.close();
    dir.remove();
  });
  return { store: memoryDeviceStore(), persistence: store.persistence, relayUrl, minReconnectDelayMs: 50, timeoutMs: 10_000 };
}

/** Ana (owner) with Dad's profile, its allergy synced to a relay started for the test. */
export async function ownerWithProfile(cleanups: Cleanups, timeoutMs = 10_000) {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const owner = (await VaultSession.create(deviceEnv(cleanups, relay.url), { displayName: 'Ana', deviceLabel: 'Laptop' })).session;
  cleanups.push(() => owner.close());
  const entry = await owner.createProfile({ name: 'Dad', relationship: 'father' });
  const dad = await owner.openProfile(entry.docId);
  dad.records.put('allergies', ALLERGY);
  await dad.status.when((s) => s.synced && s.pending === 0, timeoutMs).catch(() => {
    throw new Error(`Dad's profile did not sync: ${JSON.stringify(dad.status.value)}`);
  });
  return { relay, owner, dad };
}
