/**
 * The relay turns off crossws's ping sweep (server/relay.ts `stopPingSweep`): every 30 s it
 * pinged every socket in one synchronous loop, a third of a second without reading any edit at
 * 10,000 connections (decision 0050, amendment of 19:45). A member that keeps syncing stays
 * connected and served, and no ping arrives in the sweep's first period. Waits 33 s: the sweep
 * ran 30 s after the server started.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { RawSyncClient } from '../helpers/raw-sync-client.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

describe('no ping sweep', () => {
  let relay: TestRelay | undefined;
  afterEach(async () => relay?.destroy());

  it('a member that keeps syncing is served for longer than the sweep period, and pinged by nobody', async () => {
    relay = await testRelay();
    const owner = generateSigningKeyPair();
    const profile = await Profile.create({ signer: owner, relayUrl: relay.url });
    await profile.flush();
    await profile.close();
    const member = await RawSyncClient.connect(relay.url, profile.name, profile.access.docId, owner);
    try {
      expect(member.authenticated).toBe(true);
      // A sync every 5 s, as the vault's anti-entropy does every 30 s (Hocuspocus's own timeout
      // ends a connection silent for longer), until the sweep's first period is over.
      const until = Date.now() + 33_000;
      while (Date.now() < until) {
        expect(await member.barrier(), 'still served').toBeNull();
        await new Promise((r) => setTimeout(r, 5_000));
      }
      expect(member.pings).toBe(0);
    } finally {
      member.close();
    }
  }, 60_000);
});
