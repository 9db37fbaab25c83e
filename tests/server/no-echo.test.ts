/**
 * The relay does not echo an update to the connection that sent it (server/no-echo.ts): the
 * author's downlink carries no copy of its own record, the other member gets it, and both end
 * equal. Frames are read off the wire by a proxy in front of the author only.
 */
import { afterAll, describe, expect, it } from 'vitest';
import * as decoding from 'lib0/decoding';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';
import { sendIfOpen, startWsProxy, type WsProxy } from '../helpers/ws-proxy.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';

/** Sync-protocol update messages (Hocuspocus type 0, y-protocols messageYjsUpdate 2) in a frame. */
function isSyncUpdate(frame: Uint8Array): boolean {
  const d = decoding.createDecoder(frame);
  decoding.readVarString(d);
  return decoding.readVarUint(d) === 0 && decoding.readVarUint(d) === 2;
}

describe('no echo', () => {
  let relay: TestRelay | undefined;
  let proxy: WsProxy | undefined;
  afterAll(async () => {
    await proxy?.close();
    await relay?.destroy();
  });

  it("a record reaches the other member but not its author's downlink", async () => {
    relay = await testRelay({ quiet: true });
    let updatesDownToAuthor = 0;
    let counting = false;
    proxy = await startWsProxy({
      target: relay.url,
      pipe: (to, direction) => (frame) => {
        if (counting && direction === 'down' && isSyncUpdate(new Uint8Array(frame))) updatesDownToAuthor++;
        sendIfOpen(to, frame);
      },
    });
    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const author = await Profile.create({ signer: alice, relayUrl: proxy.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    await author.flush();
    const other = await Profile.open({ signer: bob, relayUrl: relay.url, access: author.access });
    await other.status.when((s) => s.synced, 15_000);
    await author.flush();

    counting = true;
    for (let i = 0; i < 5; i++) {
      insertNote(author, 'journal', 0, `line ${i}\n`);
      await author.flush();
    }
    await other.status.when((s) => s.synced, 15_000);
    const reads = () => [author, other].map((p) => engineOf(p).plainDoc.getText('note:journal').toString());
    for (let t = 0; t < 200 && reads()[1] !== reads()[0]; t++) await new Promise((r) => setTimeout(r, 25));
    counting = false;

    expect(reads()[0]).toContain('line 4');
    expect(reads()[1]).toBe(reads()[0]);
    // Bob wrote nothing meanwhile: every update frame the author got would be its own echo.
    expect(updatesDownToAuthor).toBe(0);
    await author.close();
    await other.close();
  });
});
