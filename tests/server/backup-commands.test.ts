/**
 * The operator's backup commands (server/backup.ts, server/backup-files.ts, server/admin.ts)
 * refuse bad input with a typed error and write nothing: a backup over an existing file, a restore
 * into a data dir that still has a database (a stale WAL replayed into a restored file corrupts
 * it), a damaged or foreign backup (seeded: truncated, bytes flipped, garbage), a files backup
 * with one bad file (nothing of it is restored). The whole drill per store is
 * tests/server/backup-restore-*.test.ts.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { backupDatabase, restoreDatabase } from '../../server/backup.ts';
import { backupFiles, restoreFiles } from '../../server/backup-files.ts';
import { RelayBackupError } from '../../server/errors.ts';
import { SqliteFileStore } from '../../server/storage/sqlite-file-store.ts';
import { SqliteRelayStore } from '../../server/storage/sqlite-relay-store.ts';
import { toBase64Url } from '../../src/lib/crypto/index.ts';
import { withSeed, type Prng } from '../helpers/prng.ts';
import { storedEnvelopes, tempDir } from '../helpers/relay.ts';

const FILE = 'tests/server/backup-commands.test.ts';
const DOC = 'AAAAAAAAAAAAAAAAAAAAAA';
const OTHER = 'BBBBBBBBBBBBBBBBBBBBBB';
const idOf = (body: Uint8Array) => toBase64Url(createHash('sha256').update(body).digest());
const noTombstones = { tombstone: async () => undefined };

function updateOf(client: number): Uint8Array {
  const d = new Y.Doc();
  d.clientID = client;
  d.getMap('r').set(`k${client}`, new Uint8Array([client % 256]));
  return Y.encodeStateAsUpdate(d);
}

/** Expects `f` to refuse with `code` (a RelayBackupError). */
async function refuses(f: () => unknown, code: 'RELAY_BACKUP_REFUSED' | 'RELAY_BACKUP_UNREADABLE'): Promise<void> {
  let error: unknown;
  try {
    await f();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RelayBackupError);
  expect((error as RelayBackupError).code).toBe(code);
}

let dir: ReturnType<typeof tempDir>;
let data: string;
beforeEach(async () => {
  dir = tempDir('fhv-backup-cmd-');
  data = join(dir.path, 'data');
  const store = await SqliteRelayStore.open(data);
  for (let i = 1; i <= 20; i++) await store.append(i % 2 ? DOC : OTHER, updateOf(i), []);
  await store.close();
  const files = (await SqliteFileStore.open(data));
  await files.putWithinQuota(DOC, idOf(new Uint8Array([1, 2, 3])), new Uint8Array([1, 2, 3]), 1, { bytes: 1e6, files: 10 });
  await files.close();
});
afterEach(() => dir.remove());

describe('npm run relay -- backup / restore (DATA_DIR)', () => {
  it('a backup restored into an empty data dir holds what the relay stored', async () => {
    const file = join(dir.path, 'b.sqlite');
    await backupDatabase(data, file);
    const restored = join(dir.path, 'restored');
    restoreDatabase(file, restored);
    for (const doc of [DOC, OTHER]) expect(storedEnvelopes(restored).load(doc)).toEqual(storedEnvelopes(data).load(doc));
    const files = (await SqliteFileStore.open(restored));
    expect(await files.usage(DOC)).toEqual({ files: 1, bytes: 3 });
    await files.close();
  });

  it('finishes while another connection keeps writing, with a snapshot between before and after', { timeout: 120_000 }, async () => {
    // Enough pages for many steps of SQLite's default 100: a stepped backup restarted at every
    // write and never finished here.
    const db = new DatabaseSync(join(data, 'relay.sqlite'));
    const insert = db.prepare('INSERT INTO updates (name, data) VALUES (?, ?)');
    db.exec('BEGIN');
    for (let i = 0; i < 2000; i++) insert.run(DOC, new Uint8Array(4000));
    db.exec('COMMIT');
    const count = () => Number((db.prepare('SELECT COUNT(*) AS n FROM updates').get() as { n: number | bigint }).n);
    const before = count();
    const writer = setInterval(() => insert.run(OTHER, new Uint8Array(10)), 1);
    const file = join(dir.path, 'busy.sqlite');
    try {
      await backupDatabase(data, file);
    } finally {
      clearInterval(writer);
    }
    const after = count();
    db.close();
    const copy = new DatabaseSync(file);
    const inCopy = Number((copy.prepare('SELECT COUNT(*) AS n FROM updates').get() as { n: number | bigint }).n);
    copy.close();
    expect(inCopy).toBeGreaterThanOrEqual(before);
    expect(inCopy).toBeLessThanOrEqual(after);
  });

  it('refuses a backup over an existing file, into a missing folder, or of a data dir without a database; writes nothing', async () => {
    const existing = join(dir.path, 'existing.sqlite');
    writeFileSync(existing, 'keep me');
    await refuses(() => backupDatabase(data, existing), 'RELAY_BACKUP_REFUSED');
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    await refuses(() => backupDatabase(data, join(dir.path, 'no-such-folder', 'b.sqlite')), 'RELAY_BACKUP_REFUSED');
    const empty = join(dir.path, 'empty');
    mkdirSync(empty);
    await refuses(() => backupDatabase(empty, join(dir.path, 'c.sqlite')), 'RELAY_BACKUP_UNREADABLE');
    expect(readdirSync(dir.path).sort()).toEqual(['data', 'empty', 'existing.sqlite']);
  });

  it('refuses a restore while the data dir has relay.sqlite, its WAL or its shared memory file; nothing there changes', async () => {
    const file = join(dir.path, 'b.sqlite');
    await backupDatabase(data, file);
    for (const leftover of ['relay.sqlite', 'relay.sqlite-wal', 'relay.sqlite-shm']) {
      const target = join(dir.path, `target-${leftover}`);
      mkdirSync(target);
      writeFileSync(join(target, leftover), 'stale');
      await refuses(() => restoreDatabase(file, target), 'RELAY_BACKUP_REFUSED');
      expect(readdirSync(target)).toEqual([leftover]);
      expect(readFileSync(join(target, leftover), 'utf8')).toBe('stale');
    }
  });

  it('seeded: a damaged or foreign backup is refused and leaves no data dir; whatever is restored passes SQLite’s integrity check', async () => {
    const file = join(dir.path, 'b.sqlite');
    await backupDatabase(data, file);
    const good = readFileSync(file);
    const foreign = join(dir.path, 'foreign.sqlite');
    new DatabaseSync(foreign).exec('CREATE TABLE notes (x); INSERT INTO notes VALUES (1)');
    const foreignBytes = readFileSync(foreign);
    await withSeed(FILE, 'seeded: a damaged', async (prng: Prng) => {
      const damage = (): [string, Uint8Array] => {
        const kind = prng.pick(['truncate', 'flip', 'garbage', 'foreign', 'header'] as const);
        const bytes = new Uint8Array(good);
        if (kind === 'truncate') return [kind, bytes.subarray(0, prng.int(0, bytes.length - 1))];
        if (kind === 'garbage') return [kind, prng.bytes(prng.int(0, 9000))];
        if (kind === 'foreign') return [kind, foreignBytes];
        if (kind === 'header') bytes[prng.int(0, 99)]! ^= 1 << prng.int(0, 7);
        else for (let i = prng.int(1, 20); i > 0; i--) bytes[prng.int(0, bytes.length - 1)]! ^= 1 << prng.int(0, 7);
        return [kind, bytes];
      };
      let refused = 0;
      for (let round = 0; round < 40; round++) {
        const [kind, bytes] = damage();
        const input = join(dir.path, `damaged-${round}`);
        writeFileSync(input, bytes);
        const target = join(dir.path, `restore-${round}`, 'data');
        try {
          restoreDatabase(input, target);
        } catch (e) {
          expect(e, kind).toBeInstanceOf(RelayBackupError);
          expect((e as RelayBackupError).code, kind).toBe('RELAY_BACKUP_UNREADABLE');
          expect(existsSync(join(dir.path, `restore-${round}`)), `${kind}: nothing written`).toBe(false);
          refused++;
          continue;
        }
        expect(['flip', 'header'], `${kind} was restored`).toContain(kind); // a flip may land where SQLite does not look
        const db = new DatabaseSync(join(target, 'relay.sqlite'));
        expect(db.prepare('PRAGMA integrity_check').get(), kind).toEqual({ integrity_check: 'ok' });
        db.close();
      }
      expect(refused).toBeGreaterThan(0);
    });
  });
});

describe('npm run relay -- backup-files / restore-files', () => {
  const bodies = [new Uint8Array([1, 2, 3]), new Uint8Array([4, 5, 6]), new Uint8Array([7, 8])];

  it('restores every file of a sound backup, and leaves out the files of documents with a tombstone', async () => {
    const source = (await SqliteFileStore.open(join(dir.path, 'src')));
    await source.putRestored(DOC, idOf(bodies[0]!), bodies[0]!, 1);
    await source.putRestored(OTHER, idOf(bodies[1]!), bodies[1]!, 1);
    const backup = join(dir.path, 'files');
    expect(await backupFiles(source, backup)).toEqual({ copied: 2, kept: 0 });
    await source.putRestored(DOC, idOf(bodies[2]!), bodies[2]!, 2);
    expect(await backupFiles(source, backup)).toEqual({ copied: 1, kept: 2 });
    await source.close();
    const target = (await SqliteFileStore.open(join(dir.path, 'dst')));
    const erasedOther = { tombstone: async (doc: string) => (doc === OTHER ? { erasedAt: 1, record: new Uint8Array(), members: new Uint8Array() } : undefined) };
    expect(await restoreFiles(backup, target, erasedOther)).toEqual({ restored: 2, erased: 1 });
    expect(await target.usage(DOC)).toEqual({ files: 2, bytes: 5 });
    expect(await target.usage(OTHER)).toEqual({ files: 0, bytes: 0 });
    await target.close();
  });

  it('backup-files copies what it can, and fails (RELAY_BACKUP_INCOMPLETE) for a file the store lists but lost; one erased meanwhile is no failure', async () => {
    const source = await SqliteFileStore.open(join(dir.path, 'lossy'));
    for (const [i, body] of bodies.entries()) await source.putRestored(i === 2 ? OTHER : DOC, idOf(body), body, 1);
    const [lost, erased] = [idOf(bodies[0]!), idOf(bodies[2]!)];
    // The bucket lost one body while the index still lists it; another file is erased as it is read.
    const lossy = Object.assign(Object.create(source) as SqliteFileStore, {
      get: async (doc: string, id: string) => (id === lost || id === erased ? undefined : source.get(doc, id)),
      has: async (doc: string, id: string) => id !== erased && source.has(doc, id),
    });
    const backup = join(dir.path, 'files-lossy');
    const refusal = await backupFiles(lossy, backup).then(() => null, (e: unknown) => e);
    expect(refusal).toBeInstanceOf(RelayBackupError);
    expect((refusal as RelayBackupError).code).toBe('RELAY_BACKUP_INCOMPLETE');
    expect((refusal as RelayBackupError).message).toMatch(/^Copied 1 new document files \(0 already in the backup\), but 1 listed/);
    expect(readdirSync(join(backup, DOC))).toEqual([idOf(bodies[1]!)]);
    // Without the loss, the same store backs up with no failure: the erased file is not counted.
    const sound = Object.assign(Object.create(source) as SqliteFileStore, { has: lossy.has, get: async (doc: string, id: string) => (id === erased ? undefined : source.get(doc, id)) });
    expect(await backupFiles(sound, backup)).toEqual({ copied: 1, kept: 1 });
    await source.close();
  });

  it('seeded: one bad entry in a files backup (bytes off their id, a foreign name, a stray file) and nothing is restored', async () => {
    await withSeed(FILE, 'seeded: one bad entry', async (prng: Prng) => {
      for (let round = 0; round < 10; round++) {
        const backup = join(dir.path, `files-${round}`);
        const count = prng.int(1, 6);
        const written: Array<[string, string]> = [];
        for (let i = 0; i < count; i++) {
          const doc = prng.pick([DOC, OTHER]);
          const body = prng.bytes(prng.int(1, 200));
          mkdirSync(join(backup, doc), { recursive: true });
          writeFileSync(join(backup, doc, idOf(body)), body);
          written.push([doc, idOf(body)]);
        }
        const kind = prng.pick(['flip', 'name', 'stray', 'doc'] as const);
        const [doc, id] = prng.pick(written);
        if (kind === 'flip') {
          const body = readFileSync(join(backup, doc, id));
          body[prng.int(0, body.length - 1)]! ^= 1 << prng.int(0, 7);
          writeFileSync(join(backup, doc, id), body);
        } else if (kind === 'name') writeFileSync(join(backup, doc, `${prng.word()}.pdf`), 'x');
        else if (kind === 'stray') writeFileSync(join(backup, 'README'), 'x');
        else {
          mkdirSync(join(backup, 'not-a-document'));
          writeFileSync(join(backup, 'not-a-document', id), readFileSync(join(backup, doc, id)));
        }
        const target = (await SqliteFileStore.open(join(dir.path, `dst-${round}`)));
        try {
          await refuses(() => restoreFiles(backup, target, noTombstones), 'RELAY_BACKUP_UNREADABLE');
          expect(await target.dumpAll(), kind).toEqual([]);
        } finally {
          await target.close();
        }
      }
    });
  });
});

describe('npm run relay (server/admin.ts)', () => {
  const ROOT = resolve(import.meta.dirname, '../..');
  const relay = (args: string[], env: Record<string, string>) =>
    promisify(execFile)(process.execPath, ['server/admin.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 }).then(
      (r) => ({ status: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ status: e.code, stdout: e.stdout, stderr: e.stderr }),
    );

  it('prints counts on success; a refusal is one line with its code, exit 1, and never a path', async () => {
    const file = join(dir.path, 'cli.sqlite');
    const ok = await relay(['backup', file], { DATA_DIR: data });
    expect(ok).toMatchObject({ status: 0, stdout: expect.stringMatching(/^backed up the relay database \(\d+ bytes\)\n$/) });
    const fresh = join(dir.path, 'fresh');
    for (const [args, target, code] of [
      [['backup', file], data, 'RELAY_BACKUP_REFUSED'],
      [['restore', file], data, 'RELAY_BACKUP_REFUSED'],
      [['restore', join(dir.path, 'missing.sqlite')], fresh, 'RELAY_BACKUP_UNREADABLE'],
      [['format', file], data, 'RELAY_BACKUP_REFUSED'],
      [['backup'], data, 'RELAY_BACKUP_REFUSED'],
    ] as const) {
      const out = await relay([...args], { DATA_DIR: target });
      expect(out.status, args.join(' ')).toBe(1);
      expect(out.stderr).toMatch(new RegExp(`^\\[relay\\] ${code}: [^\\n]+\\n$`));
      expect(out.stderr).not.toContain(dir.path);
    }
    expect(existsSync(fresh)).toBe(false);
  });
});
