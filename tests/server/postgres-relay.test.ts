/**
 * The relay on PostgreSQL (DATABASE_URL): members sync through it, and a relay started on a new
 * machine (an empty DATA_DIR) against the same database serves everything acknowledged before.
 * An erasure clears the document's rows in PostgreSQL and its files in the local SQLite file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { openRelayStore } from '../../server/storage/open-store.ts';
import { openSideConnection } from '../../server/storage/side-connection.ts';
import { startPostgres, type TestPostgres } from '../helpers/postgres.ts';
import { insertNote } from '../helpers/raw-edits.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';

let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startPostgres();
});
afterAll(async () => {
  await postgres?.destroy();
});

const noteOf = (p: Profile) => engineOf(p).plainDoc.getText('note:journal').toString();

describe('relay on PostgreSQL', () => {
  it('syncs members, and a relay on an empty data dir serves what the first one acknowledged', async () => {
    const databaseUrl = await postgres.database('relay_sync');
    const first = await testRelay({ databaseUrl });
    const alice = generateSigningKeyPair();
    const bob = generateSigningKeyPair();
    const author = await Profile.create({ signer: alice, relayUrl: first.url, members: [{ publicKey: bob.publicKey, role: Role.editor, expiresAt: 0 }] });
    insertNote(author, 'journal', 0, 'kept in postgres');
    await author.flush();
    await author.status.when((s) => s.synced, 15_000);
    const access = author.access;
    await author.close();
    await first.destroy();

    const second = await testRelay({ databaseUrl }); // a new, empty DATA_DIR
    try {
      const reader = await Profile.open({ signer: bob, relayUrl: second.url, access });
      try {
        await reader.status.when((s) => s.synced, 15_000);
        expect(noteOf(reader)).toBe('kept in postgres');
        // The local file holds only the HTTP routes' tables: no envelope log.
        const local = openSideConnection(second.dataDir, '');
        const tables = (local.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
        local.close();
        expect(tables).not.toContain('updates');
        expect(tables).not.toContain('documents');
      } finally {
        await reader.close();
      }
    } finally {
      await second.destroy();
    }
  });

  it("an erasure clears the document in PostgreSQL and its files in the local file", async () => {
    const databaseUrl = await postgres.database('relay_erase');
    const dir = tempDir('fhv-pg-erase-');
    const { store } = await openRelayStore({ dataDir: dir.path, databaseUrl });
    try {
      const local = openSideConnection(dir.path, 'CREATE TABLE IF NOT EXISTS blobs (doc TEXT NOT NULL, id TEXT NOT NULL, data BLOB NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (doc, id));');
      local.prepare('INSERT INTO blobs VALUES (?, ?, ?, ?)').run('doc', 'f1', new Uint8Array([1]), 1);
      local.prepare('INSERT INTO blobs VALUES (?, ?, ?, ?)').run('other', 'f2', new Uint8Array([2]), 1);
      await store.append('doc', new Uint8Array([0, 0]), [[1, 'aa']]);
      await store.erase('doc', { erasedAt: 1, record: new Uint8Array([9]), members: new Uint8Array(32).fill(7) });
      const left = local.prepare('SELECT doc FROM blobs').all() as Array<{ doc: string }>;
      local.close();
      expect(left.map((r) => r.doc)).toEqual(['other']);
      expect(await store.load('doc')).toBeUndefined();
      expect(await store.clientOwners('doc')).toEqual([]);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
