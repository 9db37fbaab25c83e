/**
 * The erasure journal (server/erasure-journal.ts, decision 0052): lines written by the relay read
 * back as the tombstones they were; a line the relay did not finish is left out; any other bad
 * line (seeded: bytes flipped, another document, another time, not JSON, malformed hashes, an
 * unsigned or non-erase record) refuses the whole journal before anything is applied; re-applying
 * erases a restored document's log again and is idempotent. The relay end to end:
 * tests/server/backup-restore-sqlite.test.ts and -postgres.test.ts.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { createWebCryptoEngine, generateSigningKeyPair, seededRandom, toBase64Url, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { encodeEraseExt, RecordType, sealRecord, ZERO_HASH } from '../../src/lib/protocol/index.ts';
import { appendToJournal, journaling, readJournal, reapplyErasures, type JournalEntry } from '../../server/erasure-journal.ts';
import { RelayBackupError } from '../../server/errors.ts';
import { SqliteRelayStore } from '../../server/storage/sqlite-relay-store.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { relayCommand } from '../helpers/backup-drill.ts';
import { tempDir } from '../helpers/relay.ts';

const FILE = 'tests/server/erasure-journal.test.ts';
const engine = createWebCryptoEngine();

async function erasure(o: { owner?: SigningKeyPair; erasedAt?: number; type?: number; docId?: Uint8Array } = {}): Promise<JournalEntry> {
  const owner = o.owner ?? generateSigningKeyPair();
  const docId = o.docId ?? crypto.getRandomValues(new Uint8Array(16));
  const erasedAt = o.erasedAt ?? 1_700_000_000_000;
  const sealed = await sealRecord({
    header: { type: (o.type ?? RecordType.erase) as typeof RecordType.erase, docId, epoch: 0, author: owner.publicKey, seq: 2, prev: ZERO_HASH, ext: encodeEraseExt({ erasedAt }) },
    payload: new Uint8Array(0),
    secretKey: owner.secretKey,
    engine,
    random: seededRandom(1),
  });
  return { name: toBase64Url(docId), tombstone: { erasedAt, record: sealed.bytes, members: new Uint8Array(64).fill(3) } };
}

let dir: ReturnType<typeof tempDir>;
let journal: string;
beforeEach(() => {
  dir = tempDir('fhv-journal-');
  journal = join(dir.path, 'erasures.jsonl');
});
afterEach(() => dir.remove());

async function refused(path: string): Promise<RelayBackupError> {
  const e = await readJournal(path, engine).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(RelayBackupError);
  expect((e as RelayBackupError).code).toBe('RELAY_BACKUP_UNREADABLE');
  return e as RelayBackupError;
}

describe('erasure journal', () => {
  it('reads back what was appended; a last line the relay did not finish is left out', async () => {
    const entries = [await erasure(), await erasure()];
    for (const e of entries) appendToJournal(journal, e);
    appendFileSync(journal, '{"v":1,"name":"AAAA');
    expect(await readJournal(journal, engine)).toEqual(entries);
  });

  it('seeded: one bad line refuses the whole journal, naming its line and no content', async () => {
    await withSeed(FILE, 'seeded: one bad line', async (prng: Prng) => {
      for (let round = 0; round < 12; round++) {
        const good = await Promise.all(Array.from({ length: prng.int(1, 4) }, () => erasure()));
        const lines = good.map((e) => {
          appendToJournal(journal, e);
          return readFileSync(journal, 'utf8').trim().split('\n').at(-1)!;
        });
        writeFileSync(journal, '');
        const at = prng.int(0, lines.length - 1);
        const line = JSON.parse(lines[at]!) as Record<string, unknown>;
        const kind = prng.pick(['flip', 'other-doc', 'time', 'json', 'members', 'version', 'type', 'signer'] as const);
        let bad: string;
        if (kind === 'flip') {
          const record = line.record as string;
          const i = prng.int(0, record.length - 2); // not the last character, whose low bits may be padding
          const swapped = record[i] === 'A' ? 'B' : 'A';
          bad = JSON.stringify({ ...line, record: record.slice(0, i) + swapped + record.slice(i + 1) });
        } else if (kind === 'other-doc') bad = JSON.stringify({ ...line, name: toBase64Url(prng.bytes(16)) });
        else if (kind === 'time') bad = JSON.stringify({ ...line, erasedAt: (line.erasedAt as number) + prng.int(1, 1000) });
        else if (kind === 'json') bad = lines[at]!.slice(0, prng.int(0, lines[at]!.length - 1));
        else if (kind === 'members') bad = JSON.stringify({ ...line, members: toBase64Url(prng.bytes(prng.int(1, 31))) });
        else if (kind === 'version') bad = JSON.stringify({ ...line, v: 2 });
        else if (kind === 'type') {
          const docId = Buffer.from(line.name as string, 'base64url');
          bad = JSON.stringify({ ...line, record: toBase64Url((await erasure({ docId, type: RecordType.lockbox })).tombstone.record) });
        } else {
          // Signed by someone, for this document, at this time: only the signature's key differs. Accepted (owner-ness is not checked here).
          const docId = Buffer.from(line.name as string, 'base64url');
          bad = JSON.stringify({ ...line, record: toBase64Url((await erasure({ docId, erasedAt: line.erasedAt as number })).tombstone.record) });
        }
        lines[at] = bad;
        writeFileSync(journal, lines.join('\n') + '\n');
        if (kind === 'signer') {
          expect((await readJournal(journal, engine)).map((e) => e.name)).toEqual(good.map((e) => e.name));
          continue;
        }
        const e = await refused(journal);
        expect(e.message, kind).toContain(`line ${at + 1}:`);
        for (const g of good) expect(e.message).not.toContain(g.name);
      }
    });
  });

  it('re-applying erases a restored document again, once; a journal that does not exist is refused', async () => {
    const store = await SqliteRelayStore.open(join(dir.path, 'data'));
    try {
      const entry = await erasure();
      const d = new Y.Doc();
      d.getMap('r').set('k', 1);
      await store.append(entry.name, Y.encodeStateAsUpdate(d), []);
      expect(await store.load(entry.name)).toBeDefined();
      expect(await reapplyErasures([entry, entry], store)).toEqual({ applied: 1, already: 1 });
      expect(await store.load(entry.name)).toBeUndefined();
      expect((await store.tombstone(entry.name))?.erasedAt).toBe(entry.tombstone.erasedAt);
      expect(await reapplyErasures([entry], store)).toEqual({ applied: 0, already: 1 });
    } finally {
      await store.close();
    }
    await refused(join(dir.path, 'missing.jsonl'));
  });

  it('the relay journals each committed erasure; a journal it cannot write is logged by errno and does not fail the erasure', async () => {
    const store = await SqliteRelayStore.open(join(dir.path, 'data'));
    const logged: unknown[] = [];
    try {
      const [one, two] = [await erasure(), await erasure()];
      await journaling(store, journal, () => undefined).erase(one.name, one.tombstone);
      expect(await readJournal(journal, engine)).toEqual([one]);
      await journaling(store, join(dir.path, 'no-such-dir', 'j.jsonl'), (...line) => logged.push(line)).erase(two.name, two.tombstone);
      expect((await store.tombstone(two.name))?.erasedAt).toBe(two.tombstone.erasedAt);
      expect(logged).toEqual([['error', 'erasure_journal_failed', { code: 'ENOENT' }]]);
    } finally {
      await store.close();
    }
  });

  it('npm run relay -- reapply-erasures with a bad journal: exit 1, and no store is opened', async () => {
    writeFileSync(journal, 'not json\n');
    const data = join(dir.path, 'untouched');
    await expect(relayCommand(['reapply-erasures', journal], { DATA_DIR: data })).rejects.toThrow(/\[relay\] RELAY_BACKUP_UNREADABLE: Erasure journal line 1: not a journal line/);
    expect(existsSync(data)).toBe(false);
  });
});
