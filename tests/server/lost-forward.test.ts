/**
 * A record the relay forwarded and then lost (docs/decisions/0026). The relay forwards an
 * accepted update while it is being stored, so a crash in between leaves peers holding a
 * record the relay no longer has. Before the client rule, a peer's reconnect sent it back on
 * its author's clientID and the relay refused the whole message, finally
 * (ENVELOPE_CLIENT_NOT_OWNED, I4): the peer was locked out until its author resent the record
 * and the peer reopened. Now a device sends the relay only its own person's writing
 * (src/lib/sync/own-writing.ts): the peer keeps syncing, and the author, never acknowledged,
 * resends the record and heals everyone. The relay's loss is simulated by restarting it on a
 * copy of its data dir taken before the record arrived.
 */
import { cpSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { sqlitePersistence } from '../../src/lib/storage/node.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { eventually } from '../helpers/eventually.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { tempDir, testRelay, type TestRelay } from '../helpers/relay.ts';

const cleanups = cleanupList();

/** Waits until `p` is synced; a timeout names the step and shows the status. */
async function synced(p: Profile, step: string): Promise<void> {
  await p.status.when((s) => s.synced, 20_000).catch(() => {
    throw new Error(`${step}: not synced: ${JSON.stringify(p.status.value)} refusal ${p.refusal.value}`);
  });
}

describe('a record the relay forwarded and then lost', () => {
  it('does not stop the peer that holds it; its author resends it and everyone converges', async () => {
    const data = tempDir('fhv-lost-');
    const before = tempDir('fhv-lost-before-');
    const bobStore = tempDir('fhv-lost-bob-');
    cleanups.push(() => data.remove(), () => before.remove(), () => bobStore.remove());
    let relay: TestRelay = await testRelay({ dataDir: data.path, quiet: true });
    const port = relay.port;
    cleanups.push(() => relay.destroy());
    /** Stops the relay, copies its data dir (`save`) or puts a copy back (`restore`), starts it again. */
    const restart = async (o: { save?: string; restore?: string }) => {
      await relay.destroy();
      if (o.save) cpSync(data.path, o.save, { recursive: true });
      if (o.restore) {
        rmSync(data.path, { recursive: true, force: true });
        cpSync(o.restore, data.path, { recursive: true });
      }
      relay = await testRelay({ dataDir: data.path, port, quiet: true });
    };

    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
    const a = await Profile.create({ ...common, signer: alice, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    cleanups.push(() => a.close());
    await a.flush(); // the genesis, which makes Bob a member, is at the relay before Bob connects
    const store = sqlitePersistence(bobStore.path);
    cleanups.push(() => store.close());
    const b = await Profile.open({ ...common, signer: bob, access: a.access, persistence: store.persistence });
    cleanups.push(() => b.close());
    await synced(b, 'peer opened');
    insertNote(a, 'n', 0, 'first. ');
    await a.flush();
    await eventually(() => b.readNote('n') === 'first. ', 10_000, () => JSON.stringify([b.readNote('n'), a.readNote('n'), b.status.value]));

    // The relay as it is before the next record; then the record reaches the peer.
    await restart({ save: before.path });
    await synced(a, 'author after restart');
    await synced(b, 'peer after restart');
    insertNote(a, 'n', 7, 'second.');
    await a.flush();
    await eventually(() => b.readNote('n') === 'first. second.', 10_000);

    // The author goes offline; the relay comes back without the record.
    a.disconnect();
    await restart({ restore: before.path });
    const name = toBase64Url(a.access.docId);
    const storedBytes = () => relay.store.load(name)?.length ?? 0;
    const withoutRecord = storedBytes();

    // The peer reconnects, holding the lost record: it is not refused, it catches up, and its
    // own writing (which follows the lost record in the note) is accepted and stored.
    await synced(b, 'peer after the loss');
    expect(b.refusal.value).toBeNull();
    insertNote(b, 'n', 14, ' bob.');
    await b.flush();
    await synced(b, 'peer after its own edit');
    expect(b.refusal.value).toBeNull();
    expect(b.status.value.problems).toEqual([]);
    expect(storedBytes()).toBeGreaterThan(withoutRecord);
    const withBob = storedBytes();

    // The author's reconnect hands the record back; everyone, a fresh replica included, converges.
    await a.connect();
    await synced(a, 'author back');
    await eventually(() => storedBytes() > withBob, 10_000);
    await eventually(() => a.readNote('n') === 'first. second. bob.', 10_000, () => JSON.stringify([a.readNote('n'), a.status.value]));
    expect(b.readNote('n')).toBe('first. second. bob.');
    const fresh = await Profile.open({ ...common, signer: bob, access: a.access });
    cleanups.push(() => fresh.close());
    await synced(fresh, 'fresh replica');
    await eventually(() => fresh.readNote('n') === 'first. second. bob.', 10_000, () => JSON.stringify([fresh.readNote('n'), fresh.status.value]));
    expect([a.refusal.value, b.refusal.value, fresh.refusal.value]).toEqual([null, null, null]);
  });
});
