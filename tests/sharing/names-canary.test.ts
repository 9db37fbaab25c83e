/**
 * No name reaches the relay in plaintext (docs/decisions/0038, threat model claim 72): every
 * name, device label, invitation name and nickname of a full session is a canary; every frame
 * both ways through the relay and every byte of its data directory are scanned for each, in
 * UTF-8 and UTF-16LE. Control: the same scan finds the viewer's public key (membership records
 * are cleartext by design), so a scan that looks at the wrong bytes cannot pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { createInvitation } from '../../src/lib/vault/invite.ts';
import { keepAnnounced, nameInvitation } from '../../src/lib/vault/names.ts';
import { membersOf } from '../../src/lib/vault/people.ts';
import { renameSelf, setNickname } from '../../src/lib/vault/self.ts';
import { VaultSession } from '../../src/lib/vault/session.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { sendIfOpen, startWsProxy } from '../helpers/ws-proxy.ts';
import { deviceEnv as sqliteDeviceEnv } from '../helpers/vault-device.ts';

const cleanups = cleanupList();

const CANARIES = {
  owner: 'Canary Ownername Qx7',
  ownerDevice: 'Canarylabel Ow9',
  invite: 'Canary Invitename Zk4',
  viewer: 'Canary Viewername Jw2',
  viewerDevice: 'Canarylabel Vp5',
  renamed: 'Canary Renamed Hb8',
  nickname: 'Canary Nickname Lm3',
  profile: 'Canary Profilename Rt6',
};

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
const utf16le = (s: string) => new Uint8Array(Buffer.from(s, 'utf16le'));
const utf8 = (s: string) => new TextEncoder().encode(s);
const found = (blobs: readonly Uint8Array[], needle: Uint8Array) => blobs.some((b) => indexOf(b, needle) >= 0);

const deviceEnv = (relayUrl?: string) => sqliteDeviceEnv(cleanups, relayUrl);

describe('names never reach the relay in plaintext', () => {
  it('names, labels, invitation names and nicknames of a full session are absent from every relayed frame and the relay store', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const frames: Uint8Array[] = [];
    const proxy = await startWsProxy({
      target: relay.url,
      pipe: (to) => (frame) => {
        frames.push(frame);
        sendIfOpen(to, frame);
      },
    });
    cleanups.push(() => proxy.close());

    const { session: ana } = await VaultSession.create(deviceEnv(proxy.url), { displayName: CANARIES.owner, deviceLabel: CANARIES.ownerDevice });
    cleanups.push(() => ana.close());
    const entry = await ana.createProfile({ name: CANARIES.profile, relationship: 'mother' });
    const mum = await ana.openProfile(entry.docId);
    cleanups.push(keepAnnounced(mum, () => ({ name: ana.displayName, label: ana.device.label })));
    await eventually(() => mum.role === Role.owner);
    await mum.status.when((s) => s.synced && s.pending === 0, 15_000);
    const inv = await createInvitation(mum, { origin: 'http://127.0.0.1', role: Role.viewer });
    nameInvitation(mum, inv.link, CANARIES.invite);
    await mum.flush();

    const { session: bob } = await VaultSession.create(deviceEnv(proxy.url), { displayName: CANARIES.viewer, deviceLabel: CANARIES.viewerDevice });
    cleanups.push(() => bob.close());
    await bob.acceptInvitation(inv.link, { name: 'Mum', relationship: 'mother-in-law' });
    const bobsMum = await bob.openProfile(entry.docId);
    cleanups.push(keepAnnounced(bobsMum, () => ({ name: bob.displayName, label: bob.device.label })));
    const bobKey = toHex(bob.person.identity.signing.publicKey);
    // The names crossed the relay: each side reads the other's.
    await eventually(() => membersOf(mum).find((m) => m.key === bobKey)?.name === CANARIES.viewer, 15_000);
    await eventually(() => membersOf(bobsMum).find((m) => m.role === 'owner')?.name === CANARIES.owner, 15_000);
    await setNickname(bob, entry.docId, CANARIES.nickname);
    await renameSelf(bob, CANARIES.renamed);
    await eventually(() => membersOf(mum).find((m) => m.key === bobKey)?.name === CANARIES.renamed, 15_000);
    expect(membersOf(mum).find((m) => m.key === bobKey)?.devices.map((d) => d.label)).toEqual([CANARIES.viewerDevice]);
    for (const p of [mum, bobsMum, ana.vault.profile, bob.vault.profile]) await p.flush();

    const stored = relay.store.dumpAll();
    const files = readdirSync(relay.dataDir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => new Uint8Array(readFileSync(join(d.parentPath, d.name))));
    const everything = [...frames, ...stored, ...files];
    expect(frames.length).toBeGreaterThan(20);
    // Control: cleartext the relay must see (the viewer's key in its accept) is found by this scan.
    const bobPublic = bob.person.identity.signing.publicKey;
    expect(found(frames, bobPublic)).toBe(true);
    expect(found(stored, bobPublic)).toBe(true);
    expect(found(files, bobPublic)).toBe(true);
    for (const [what, canary] of Object.entries(CANARIES)) {
      for (const encoded of [utf8(canary), utf16le(canary), utf8(canary.toLowerCase())]) {
        expect(found(everything, encoded), `${what} reached the relay in plaintext`).toBe(false);
      }
    }
  });
});
