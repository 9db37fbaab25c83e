/**
 * The status one indicator shows (issue 13 item 4): offline the moment the browser says so,
 * "pending N" counting what the person did, and back to synced when the network returns.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();

async function connected() {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const p = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), relayUrl: relay.url, minReconnectDelayMs: 50 });
  cleanups.push(() => p.close());
  await p.flush();
  await p.status.when((s) => s.state === 'synced');
  return p;
}

describe('sync indicator status', () => {
  it('flips to offline in the same tick as the browser\'s offline event, and back once online', async () => {
    const p = await connected();
    p.networkLost();
    expect(p.status.value.state).toBe('offline');
    expect(p.status.value.connection).toBe('offline');
    // A socket that reconnects while the browser still says offline (an emulated offline
    // network leaves WebSockets up) changes nothing until the browser says "online".
    await engineOf(p).connection!.connection.when((c) => c === 'connected');
    expect(p.status.value.state).toBe('offline');
    p.reconnectNow();
    await p.status.when((s) => s.state === 'synced');
  });

  it('one typed line is one change, a record saved twice is one more, and all sent is none', async () => {
    const p = await connected();
    p.networkLost();
    p.disconnect();
    const note = p.note('visits');
    const line = 'Cardiology follow-up.';
    for (let i = 0; i < line.length; i++) note.replace(i, 0, line[i]!);
    await p.status.when((s) => s.pending > 0);
    expect(p.status.value.pending).toBeGreaterThan(1);
    expect(p.status.value.edits).toBe(1);
    p.records.put('allergies', { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin' } });
    p.records.put('allergies', { id: 'pen', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Penicillin V' } });
    await p.status.when((s) => s.edits === 2);
    p.reconnectNow();
    await p.connect();
    await p.flush();
    await p.status.when((s) => s.state === 'synced');
    expect(p.status.value.edits).toBe(0);
    note.replace(0, 0, 'X');
    await p.status.when((s) => s.pending > 0);
    expect(p.status.value.edits).toBe(1);
  });
});
