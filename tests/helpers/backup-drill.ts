/**
 * One backup-and-restore drill against a real relay, run per store by
 * tests/server/backup-restore-*.test.ts (docs/operations.md "Backups and restores"):
 *
 *   three members write to a profile and attach a file; profile E is erased;
 *   the store is backed up while the relay runs and a member keeps typing;
 *   everyone writes more, a file is attached, profile F is erased; Carol's device goes offline;
 *   the relay stops, the store is wiped and restored with the operator's commands, the relay starts;
 *   then: Alice's and Bob's devices resync and resend what they wrote; Carol's writing after the
 *   backup is missing at the relay (Alice and Bob hold it but send only their own) until her device
 *   returns; then every replica, a fresh device's included, is equal and holds every edit exactly
 *   once; the file in the backup opens again, the later one is BLOB_NOT_FOUND; E stays erased.
 *   What F looks like depends on the store and is returned for the test to judge.
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { generateSigningKeyPair, nobleEngine, utf8, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { createAuthToken, Role } from '../../src/lib/protocol/index.ts';
import { downloadBlob, uploadBlob, type BlobAttachment } from '../../src/lib/vault/blobs.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import type { RelayConfig } from '../../server/config.ts';
import { eventually } from './eventually.ts';
import { freePort } from './postgres.ts';
import { insertNote } from './raw-edits.ts';
import { tempDir, testRelay, type TestRelay } from './relay.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** `npm run relay -- <args>` with the operator's environment; resolves to stdout, rejects with stderr. */
export async function relayCommand(args: readonly string[], env: Record<string, string>): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['server/admin.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 120_000 });
    return stdout;
  } catch (e) {
    throw new Error(`npm run relay -- ${args[0]} failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
  }
}

export interface StoreDrill {
  /** Relay settings for the store under test (databaseUrl; blobStore and s3). */
  readonly config: Partial<RelayConfig>;
  /** Whether wiping the store loses the envelope log (SQLite, PostgreSQL) or only files (S3). */
  readonly losesEnvelopes: boolean;
  /** Backs the store up while the relay runs; `env` is the relay's environment (DATA_DIR, …). */
  backup(env: Record<string, string>): Promise<void>;
  /** Deletes everything the store holds (the relay is stopped). */
  wipe(env: Record<string, string>): Promise<void>;
  /** Puts the backup back (the relay is stopped); returns the commands' output. */
  restore(env: Record<string, string>): Promise<string>;
}

export interface DrillResult {
  readonly restoreOutput: string;
  /** Erased after the backup: what a member's fresh device and the file route see after the restore. */
  readonly erasedAfter: { readonly name: string; readonly refusal: string | null; readonly note: string; readonly fileStatus: number };
}

const editor = (k: SigningKeyPair) => ({ publicKey: k.publicKey, role: Role.editor, expiresAt: 0 });

async function synced(p: Profile, step: string): Promise<void> {
  await p.status.when((s) => s.synced, 60_000).catch(() => {
    throw new Error(`${step}: not synced: ${JSON.stringify(p.status.value)} refusal ${p.refusal.value}`);
  });
}

/** The relay's answer to a member's GET of a file, with a token of their own. */
async function fileStatus(relay: TestRelay, signer: SigningKeyPair, docId: Uint8Array, name: string, id: string): Promise<number> {
  const token = await createAuthToken({ secretKey: signer.secretKey, docId, expiresAt: Date.now() + 60_000, engine: nobleEngine });
  const response = await fetch(`${relay.httpUrl}/blobs/${name}/${id}`, { headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });
  await response.arrayBuffer();
  return response.status;
}

/**
 * The owner erases; the device then drops its copy, as the app and the CLI do once the relay
 * confirmed (src/lib/vault/erase.ts). A device still holding the erase order would resend it
 * after a restore (it is its own writing) and so erase the profile again.
 */
async function eraseAndDrop(p: Profile): Promise<void> {
  await p.eraseEverywhere();
  await eventually(() => p.refusal.value === 'PROFILE_ERASED', 60_000, () => `refusal ${p.refusal.value}`);
  await p.close();
}

/** Uploads `file` sealed and saves a DocumentReference `id` naming it, as the app does. */
async function attach(p: Profile, id: string, file: Uint8Array): Promise<BlobAttachment> {
  const attachment = await uploadBlob(p, file, { title: 'scan.pdf', contentType: 'application/pdf' });
  p.records.put('documents', { id, schemaVersion: 1, resourceType: 'DocumentReference', status: 'current', content: [{ attachment }] });
  return attachment;
}

const fileId = (a: BlobAttachment) => a.url.slice('fhv-blob:'.length);

export async function backupRestoreDrill(drill: StoreDrill, cleanups: Array<() => Promise<void> | void>): Promise<DrillResult> {
  const data = tempDir('fhv-drill-');
  const journal = tempDir('fhv-drill-journal-');
  cleanups.push(() => data.remove(), () => journal.remove());
  // The relay's environment as the operator sets it; the erasure journal lives outside DATA_DIR.
  const env = { DATA_DIR: data.path, ERASURE_JOURNAL: join(journal.path, 'erasures.jsonl') };
  const port = await freePort();
  const start = () => testRelay({ ...drill.config, dataDir: data.path, erasureJournal: env.ERASURE_JOURNAL, port, quiet: true });
  let relay = await start();
  cleanups.push(() => relay.destroy());
  const [alice, bob, carol] = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
  const common = { relayUrl: relay.url, minReconnectDelayMs: 50 };
  const opened = <P extends Profile>(p: P): P => (cleanups.push(() => p.close().catch(() => undefined)), p);

  const a = opened(await Profile.create({ ...common, signer: alice, members: [editor(bob), editor(carol)] }));
  await a.flush();
  const b = opened(await Profile.open({ ...common, signer: bob, access: a.access }));
  const c = opened(await Profile.open({ ...common, signer: carol, access: a.access }));
  await Promise.all([synced(b, 'bob opened'), synced(c, 'carol opened')]);

  // Each member appends to a note of their own: what was typed, in order, is exactly what every replica must read.
  const typed = { alice: '', bob: '', carol: '' };
  const write = (p: Profile, who: keyof typeof typed, text: string) => {
    insertNote(p, who, typed[who].length, text);
    typed[who] += text;
  };
  const everyoneHasEverything = (ps: readonly Profile[]) =>
    ps.every((p) => (['alice', 'bob', 'carol'] as const).every((who) => p.readNote(who) === typed[who]) && p.records.list('documents').length === 2);
  const describe = (ps: readonly Profile[]) => () => JSON.stringify(ps.map((p) => [p.readNote('alice'), p.readNote('bob'), p.readNote('carol'), p.records.list('documents').length, p.refusal.value]));

  /** A profile of Alice's shared with Bob, with a note and a file: erased before or after the backup. */
  const sideProfile = async (label: string) => {
    const p = opened(await Profile.create({ ...common, signer: alice, members: [editor(bob)] }));
    await p.flush(); // the relay knows the profile before it takes a file for it
    insertNote(p, 'n', 0, label);
    const attachment = await attach(p, 'scan', utf8(`${label} file`));
    await p.flush();
    return { p, access: p.access, name: p.name, id: fileId(attachment) };
  };
  const erasedBefore = await sideProfile('erased before the backup');
  const erasedAfter = await sideProfile('erased after the backup');

  /** Everyone writes; `uploader` attaches `file` as document `docId`; the side profile is erased. */
  const writeRound = async (n: number, uploader: Profile, docId: string, file: Uint8Array, erased: Profile) => {
    write(a, 'alice', `a${n} `);
    write(b, 'bob', `b${n} `);
    write(c, 'carol', `c${n} `);
    await attach(uploader, docId, file);
    await eraseAndDrop(erased);
    await Promise.all([a.flush(), b.flush(), c.flush()]);
  };
  const file1 = utf8('DRILL lab report, synthetic, in the backup');
  await writeRound(1, a, 'doc1', file1, erasedBefore.p);

  // The backup, taken while Alice keeps typing (each edit is its own update to the relay).
  let typing = true;
  const typist = (async () => {
    for (let i = 0; typing; i++) {
      write(a, 'alice', `live${i} `);
      await new Promise((r) => setTimeout(r, 10)); // pacing, not synchronisation
    }
  })();
  await drill.backup(env);
  typing = false;
  await typist;
  expect(typed.alice).toContain('live0 ');

  await writeRound(2, b, 'doc2', utf8('DRILL discharge letter, synthetic, after the backup'), erasedAfter.p);
  await eventually(() => everyoneHasEverything([a, b, c]), 60_000, describe([a, b, c]));

  // Carol's device is offline through the restore.
  c.disconnect();
  await relay.destroy();
  await drill.wipe(env);
  const restoreOutput = await drill.restore(env);
  relay = await start();
  a.reconnectNow();
  b.reconnectNow();
  await Promise.all([synced(a, 'alice after the restore'), synced(b, 'bob after the restore')]);
  expect([a.refusal.value, b.refusal.value]).toEqual([null, null]);

  // What the relay holds now, seen by a fresh device: Alice's and Bob's writing is back (their
  // devices resent it); Carol's after the backup is not, though Alice and Bob hold it.
  const first = opened(await Profile.open({ ...common, signer: bob, access: a.access }));
  await synced(first, 'fresh device before carol returns');
  await eventually(() => first.readNote('alice') === typed.alice && first.readNote('bob') === typed.bob && first.records.list('documents').length === 2, 60_000, describe([first]));
  expect(first.readNote('carol')).toBe(drill.losesEnvelopes ? 'c1 ' : typed.carol);
  expect([a.readNote('carol'), b.readNote('carol')]).toEqual([typed.carol, typed.carol]);
  await first.close();

  // Carol's device comes back and resends; everyone converges, a new device included.
  await c.connect();
  await synced(c, 'carol back');
  const fresh = opened(await Profile.open({ ...common, signer: bob, access: a.access }));
  await synced(fresh, 'fresh device after carol returned');
  const everyone = [a, b, c, fresh];
  await eventually(() => everyoneHasEverything(everyone), 60_000, describe(everyone));
  for (const p of everyone) expect(p.toJSON()).toEqual(a.toJSON());
  expect(everyone.map((p) => p.refusal.value)).toEqual([null, null, null, null]);
  expect(everyone.map((p) => p.status.value.problems)).toEqual([[], [], [], []]);

  // The file in the backup opens again; the one attached after it is gone (devices keep no copies).
  const seen = (id: string) => fresh.records.get('documents', id)!.content[0]!.attachment;
  expect(await downloadBlob(fresh, seen('doc1'))).toEqual(file1);
  await expect(downloadBlob(fresh, seen('doc2'))).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });

  // Erased before the backup: still erased (the tombstone came back with it).
  const late = opened(await Profile.open({ ...common, signer: bob, access: erasedBefore.access }));
  await eventually(() => late.refusal.value === 'PROFILE_ERASED', 60_000, () => `refusal ${late.refusal.value}`);
  expect(late.readNote('n')).toBe('');
  expect(await fileStatus(relay, bob, erasedBefore.access.docId, erasedBefore.name, erasedBefore.id)).toBe(410);

  // Erased after the backup: reported for the test of each store to judge.
  const after = opened(await Profile.open({ ...common, signer: bob, access: erasedAfter.access }));
  await eventually(() => after.refusal.value === 'PROFILE_ERASED' || (after.status.value.synced && after.readNote('n') !== ''), 60_000, () => JSON.stringify([after.refusal.value, after.status.value]));
  return {
    restoreOutput,
    erasedAfter: { name: erasedAfter.name, refusal: after.refusal.value, note: after.readNote('n'), fileStatus: await fileStatus(relay, bob, erasedAfter.access.docId, erasedAfter.name, erasedAfter.id) },
  };
}
