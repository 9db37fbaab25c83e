/**
 * Hocuspocus unloads a document by name: an unload of an instance that was already unloaded and
 * replaced removed the successor from the registry. Its members stayed connected to a document
 * nothing routed to; with several relay instances, others' updates never reached them while
 * they showed "synced" (faults.test.ts seed 80617856, through the unload guard's delayed retry).
 * server/unload-guard.ts now lets only the registered instance unload.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Document } from '@hocuspocus/server';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { eventually } from '../helpers/eventually.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { testRelay, type TestRelay } from '../helpers/relay.ts';

const noteOf = (p: Profile) => engineOf(p).plainDoc.getText('note:journal').toString();

describe('a stale document instance', () => {
  let relay: TestRelay | undefined;
  const profiles: Profile[] = [];
  afterEach(async () => {
    for (const p of profiles.splice(0)) await p.close().catch(() => undefined);
    await relay?.destroy();
  });

  it('unloading it again leaves its successor, and the members on it, in place', async () => {
    relay = await testRelay();
    const hocuspocus = relay.server.hocuspocus;
    const [alice, bob] = [generateSigningKeyPair(), generateSigningKeyPair()];
    const a = await Profile.create({ signer: alice, relayUrl: relay.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    profiles.push(a);
    await a.flush();
    const first = hocuspocus.documents.get(a.name) as Document;
    expect(first).toBeDefined();

    // Everyone leaves; once the unload guard's grace is over the instance unloads.
    await a.close();
    profiles.splice(0);
    await eventually(() => !hocuspocus.documents.has(a.name), 20_000, () => 'the first instance never unloaded');

    // Alice comes back: a successor is loaded from storage.
    const a2 = await Profile.open({ signer: alice, relayUrl: relay.url, access: a.access });
    profiles.push(a2);
    await a2.status.when((s) => s.synced, 15_000);
    const second = hocuspocus.documents.get(a.name);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);

    // A late unload of the first instance (a retry scheduled while it was still loaded), once
    // the unload guard's grace after the last authentication (5 s) is over, as its retry comes.
    await new Promise((r) => setTimeout(r, 5_500));
    await hocuspocus.unloadDocument(first);
    expect(hocuspocus.documents.get(a.name), 'the successor is still the loaded instance').toBe(second);

    // And it still routes: Bob's edit reaches Alice.
    const b = await Profile.open({ signer: bob, relayUrl: relay.url, access: a.access });
    profiles.push(b);
    await b.status.when((s) => s.synced, 15_000);
    insertNote(b, 'journal', 0, '<from-bob>');
    await b.flush();
    await eventually(() => noteOf(a2).includes('<from-bob>'), 15_000, () => `alice has ${JSON.stringify(noteOf(a2))}`);
  }, 60_000);
});
