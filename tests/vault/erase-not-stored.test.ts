/**
 * Regression (threat model claim 92): `eraseProfile` resolved as soon as `flush()` returned, and
 * flush returns when the connection is down or drops. An owner whose connection was cut as the
 * erase order went out (or who was offline) was told "erased" and the CLI and app then dropped
 * the copy and keys, while the relay never had the order. Now: ERASE_NOT_STORED, nothing
 * dropped; the sealed order goes out on the next connection and the relay erases then.
 */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { eraseProfile } from '../../src/lib/vault/erase.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { setField } from '../helpers/raw-edits.ts';
import { testRelay } from '../helpers/relay.ts';
import { sendIfOpen, startWsProxy } from '../helpers/ws-proxy.ts';

const cleanups = cleanupList();

describe('an erase order the relay did not confirm', () => {
  it('is ERASE_NOT_STORED when the connection is cut as it goes out, or when offline; it erases once sent', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    let cut = false;
    const proxy = await startWsProxy({
      target: relay.url,
      pipe: (to, direction) => (frame) => {
        if (cut && direction === 'up') {
          proxy.cutAll(); // the order never reaches the relay; the connection drops
          return;
        }
        sendIfOpen(to, frame);
      },
    });
    cleanups.push(() => proxy.close());
    const profile = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair(), relayUrl: proxy.url, minReconnectDelayMs: 60_000 });
    cleanups.push(() => profile.close().catch(() => undefined));
    setField(profile, 'allergies', 'peanut', 'severe');
    await profile.flush();
    await eventually(() => relay.store.load(profile.name) !== undefined);

    cut = true;
    await expect(eraseProfile(profile, { expectedName: 'mum', typedName: 'mum', timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ERASE_NOT_STORED', number: 296 });
    expect(await relay.storage.tombstone(profile.name)).toBeUndefined();
    expect(relay.store.load(profile.name)).toBeDefined();
    // Offline now (no reconnect for a minute): asking again is refused the same way.
    await expect(eraseProfile(profile, { expectedName: 'mum', typedName: 'mum', timeoutMs: 1_000 })).rejects.toMatchObject({ code: 'ERASE_NOT_STORED' });

    // Back online: the sealed order goes out and the relay erases.
    cut = false;
    profile.disconnect();
    await profile.connect();
    await eventually(() => profile.refusal.value === 'PROFILE_ERASED', 20_000);
    // The refusal can come first (the second order, queued behind the first, is refused as soon
    // as the first is taken); the rows go once the first is durable.
    await eventually(() => relay.store.load(profile.name) === undefined, 20_000);
    expect(await relay.storage.tombstone(profile.name)).toBeDefined();
  }, 60_000);
});
