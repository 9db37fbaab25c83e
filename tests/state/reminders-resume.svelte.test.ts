/**
 * Reminders someone turned on keep running after a reload (decision 0044): a new AppState over
 * the same device storage starts them for every profile whose stored choice is "on", without
 * its medicines page being visited, and for no other profile. Before, they started only on
 * that page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { AppState } from '../../src/lib/state/app.svelte.ts';
import { runningReminders, stopAllReminders } from '../../src/lib/state/reminders.svelte.ts';
import { VaultSession, type SessionEnv } from '../../src/lib/vault/session.ts';
import { eventually } from '../helpers/eventually.ts';
import { startChildRelay, type ChildRelay } from './shl-share-relay.ts';

/** This browser's localStorage, as the app keeps reminder choices in it (Node has none here). */
function memoryLocalStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (k) => items.get(k) ?? null,
    key: (i) => [...items.keys()][i] ?? null,
    removeItem: (k) => void items.delete(k),
    setItem: (k, v) => void items.set(k, String(v)),
  };
}

describe('reminders after a reload', () => {
  let relay: ChildRelay;
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'localStorage');
  beforeAll(async () => {
    relay = await startChildRelay();
    Object.defineProperty(globalThis, 'localStorage', { value: memoryLocalStorage(), configurable: true });
  });
  afterAll(async () => {
    stopAllReminders();
    if (saved) Object.defineProperty(globalThis, 'localStorage', saved);
    else delete (globalThis as { localStorage?: Storage }).localStorage;
    await relay?.stop();
  });

  it('start for the profiles they were on for, without visiting their medicines page, and for no other', async () => {
    const device: SessionEnv = { store: memoryDeviceStore(), persistence: memoryPersistence(), relayUrl: relay.url, minReconnectDelayMs: 50, timeoutMs: 15_000 };
    const first = (await VaultSession.create(device, { displayName: 'Ana', deviceLabel: 'Laptop' })).session;
    const mum = await first.createProfile({ name: 'Mum', relationship: 'mother' });
    const dad = await first.createProfile({ name: 'Dad', relationship: 'father' });
    await first.close();
    // Turned on for Mum in an earlier tab (what ProfileReminders.enable stores).
    localStorage.setItem(`fhv-reminders:${mum.docId}`, JSON.stringify({ on: true, details: false, follows: [], seenAt: 0 }));
    localStorage.setItem(`fhv-reminders:${dad.docId}`, JSON.stringify({ on: false, details: false, follows: [], seenAt: 0 }));

    // The reload: a new AppState over the same device storage.
    const app = new AppState(device, 'http://127.0.0.1');
    await app.init();
    expect(app.phase).toBe('ready');
    await eventually(() => runningReminders().includes(mum.docId), 15_000, () => `running: ${runningReminders().join(',') || 'none'}`);
    // Dad's choice was read in the same pass, before Mum's profile finished opening.
    expect(runningReminders()).toEqual([mum.docId]);
    await app.forgetDevice();
    await eventually(() => runningReminders().length === 0, 5_000);
  });
});
