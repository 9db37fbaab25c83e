/** Presence is encrypted and signed end to end; the relay passes only opaque blobs. */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, generateBoxKeyPair, generateSigningKeyPair, secureRandom } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { EpochKeyRing } from '../../src/lib/sync/key-ring.ts';
import { openPresence, sealPresence } from '../../src/lib/sync/presence.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { isAllowedAwarenessState } from '../../server/awareness.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { createPrng } from '../helpers/prng.ts';
import { scanForCanaries, startNemesis } from '../helpers/nemesis.ts';
import { testRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });

describe('presence', () => {
  it('members see each other (name, section) while the relay sees only ciphertext', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const nemesis = await startNemesis({ target: relay.url, prng: createPrng(1) });
    cleanups.push(() => nemesis.close());
    const [mum, son] = [device(), device()];
    const a = await Profile.create({ ...mum, relayUrl: nemesis.url, minReconnectDelayMs: 50, members: [{ publicKey: son.signer.publicKey, boxKey: son.box.publicKey, role: Role.editor, expiresAt: 0 }] });
    cleanups.push(() => a.close());
    await a.flush();
    const b = await Profile.open({ ...son, access: a.access, relayUrl: nemesis.url, minReconnectDelayMs: 50 });
    cleanups.push(() => b.close());
    await b.status.when((s) => s.synced);
    await a.setPresence({ name: 'Mum-CANARY-7731', section: 'medications-CANARY' });
    await b.setPresence({ name: 'Son', section: 'notes' });
    await eventually(() => b.presence.value.some((p) => p.name === 'Mum-CANARY-7731' && p.section === 'medications-CANARY'));
    await eventually(() => a.presence.value.some((p) => p.name === 'Son' && p.role === Role.editor));
    const hits = scanForCanaries(nemesis.frames, ['Mum-CANARY-7731', 'medications-CANARY']);
    expect([...hits.values()]).toEqual([0, 0]);
  });

  it('forged, stale and foreign presence is ignored; the relay drops cleartext awareness', async () => {
    const engine = createWebCryptoEngine();
    const member = generateSigningKeyPair();
    const outsider = generateSigningKeyPair();
    const docId = new Uint8Array(16).fill(5);
    const keys = new EpochKeyRing([[0, secureRandom(32) as never]]);
    const now = Date.now();
    const roleOf = (pk: Uint8Array) => (Buffer.from(pk).equals(Buffer.from(member.publicKey)) ? Role.editor : undefined);
    const seal = (signer = member, at = now, doc = docId) =>
      sealPresence({ state: { name: 'Dad', section: 'labs' }, docId: doc, epoch: 0, keys, signer, engine, random: secureRandom, now: at });
    const o = { docId, keys, engine, now, roleOf };
    expect(await openPresence(await seal(), o)).toMatchObject({ name: 'Dad', section: 'labs', role: Role.editor });
    expect(await openPresence(await seal(outsider), o)).toBeNull();
    expect(await openPresence(await seal(member, now - 120_000), o)).toBeNull();
    expect(await openPresence(await seal(member, now, new Uint8Array(16).fill(6)), o)).toBeNull();
    const tampered = (await seal())!.replace(/.(?=.{10}$)/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(await openPresence(tampered, o)).toBeNull();
    expect(await openPresence({ name: 'Dad' }, o)).toBeNull();

    expect(isAllowedAwarenessState({ p: (await seal())! })).toBe(true);
    expect(isAllowedAwarenessState({})).toBe(true);
    expect(isAllowedAwarenessState({ user: { name: 'Dad' } })).toBe(false);
    expect(isAllowedAwarenessState({ p: 'has spaces and PHI' })).toBe(false);
    expect(isAllowedAwarenessState({ p: 'x'.repeat(5000) })).toBe(false);
  });
});
