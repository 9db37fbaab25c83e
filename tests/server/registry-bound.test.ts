/**
 * The relay's record indexes are bounded by what is loaded (server/registry.ts): an index built
 * only to authenticate (a stranger's refused token names any document id it likes) is dropped
 * once nobody asked for it for `registryIdleMs`, a loaded document's index is never dropped
 * however long it sits idle (its policy checks use it), and an unloaded document's index goes
 * with the unload. Against a real relay with a stepped clock; the strangers' document ids and
 * keys come from a seeded generator.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { RawSyncClient } from '../helpers/raw-sync-client.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const FILE = 'tests/server/registry-bound.test.ts';
const IDLE_MS = 60_000;

let relay: TestRelay | undefined;
const profiles: Profile[] = [];
afterEach(async () => {
  for (const p of profiles.splice(0)) await p.close().catch(() => undefined);
  await relay?.destroy();
  relay = undefined;
});

/** A stranger asks to join a random document id with its own key: refused, not a member. */
async function stranger(prng: Prng, now: number): Promise<string> {
  const docId = prng.bytes(16);
  const signer = generateSigningKeyPair((n) => prng.bytes(n));
  const c = await RawSyncClient.connect(relay!.url, toBase64Url(docId), docId, signer, now);
  try {
    expect(c.authenticated).toBe(false);
    expect(c.closeReason).not.toBeNull();
  } finally {
    c.close();
  }
  return toBase64Url(docId);
}

describe('relay record index bound', () => {
  it('drops indexes strangers made, keeps a loaded document\'s however idle, drops it on unload', async () => {
    await withSeed(FILE, 'drops indexes strangers made', async (prng) => {
      let clock = Date.now();
      const now = () => clock;
      relay = await testRelay({ now, registryIdleMs: IDLE_MS });
      const owner = generateSigningKeyPair();
      const viewer = generateSigningKeyPair();
      const profile = await Profile.create({ relayUrl: relay.url, signer: owner, now, members: [{ publicKey: viewer.publicKey, role: Role.viewer, expiresAt: 0 }] });
      profiles.push(profile);
      await profile.flush();
      const held = toBase64Url(profile.access.docId);
      const heldEntry = await relay.registry.get(held);
      expect(heldEntry).toBeDefined();

      // Strangers' refusals each leave an index behind for now (the leak this bound closes).
      const count = prng.int(3, 12);
      for (let i = 0; i < count; i++) await stranger(prng, clock);
      expect(relay.registry.size).toBe(1 + count);

      // A whole idle period later, the next request sweeps: only the loaded document and the
      // newest stranger's index are left; the loaded one is the same object (not rebuilt).
      clock += IDLE_MS + prng.int(1, 5_000);
      const last = await stranger(prng, clock);
      expect(relay.registry.size).toBe(2);
      expect(relay.server.hocuspocus.documents.has(held)).toBe(true);
      expect(await relay.registry.get(held)).toBe(heldEntry);

      // The loaded document's policy still works on that index: an edit is checked, stored, acked.
      clock += IDLE_MS + 1;
      await stranger(prng, clock);
      profile.note('after-sweep').replace(0, 0, 'x');
      await profile.flush();
      expect(profile.status.value.pending).toBe(0);
      expect(await relay.registry.get(held)).toBe(heldEntry);
      expect(relay.registry.size).toBe(2); // `last` was swept, the newest stranger's is there
      void last;

      // Its last connection gone, the document unloads and its index goes with it.
      await profile.close();
      profiles.splice(0);
      await eventually(() => !relay!.server.hocuspocus.documents.has(held) && relay!.registry.size === 1, 20_000, () => `size ${relay!.registry.size}`);
      clock += IDLE_MS + 1;
      await stranger(prng, clock);
      expect(relay.registry.size).toBe(1);
    });
  }, 60_000);
});
