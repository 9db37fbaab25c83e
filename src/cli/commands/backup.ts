/**
 * `backup [--out FILE]` and `restore <file> [--force]` (docs/decisions/0033-backup-archive.md).
 *
 * The CLI's identity is its device signing key (members are keys; there is no separate
 * identity seed), so its recovery code spells that key's 32-byte seed, which `backup` writes to
 * `--code-file` (a new 0600 file) or shows on a terminal, never into a pipe or log.
 * The archive holds every profile's envelope as stored here, the profiles' access (doc ids,
 * epoch keys, relay) and the box secret key, sealed under the code. `restore` brings back this
 * same device (the relay and the profiles know it by that key: that is what lets it keep
 * syncing), so it is for a lost or wiped install, not for a second one running beside the first.
 *
 * Restore checks everything before it writes anything: the archive opens, every document passes
 * the checks a received update passes, and only then are the store and keyring written.
 * Progress goes to stderr as JSON lines `{"progress":{"phase","done","total"}}`.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  boxKeyPairFromSecretKey,
  decodeRecoveryCode,
  encodeRecoveryCode,
  fromBase64Url,
  signingKeyPairFromSeed,
  signingSeed,
  toBase64Url,
} from '../../lib/crypto/index.ts';
import { openArchive, sealArchive } from '../../lib/vault/backup-format.ts';
import {
  decodePayload,
  encodePayload,
  envelopeBytes,
  envelopeRecordCount,
  envelopeState,
  storeEnvelope,
  verifyBackupDoc,
  type BackupDoc,
  type BackupPhase,
} from '../../lib/vault/backup.ts';
import { VaultError } from '../../lib/vault/errors.ts';
import { decodeAccess, encodeAccess, type StoredProfile } from '../access.ts';
import { need, type CliArgs } from '../args.ts';
import { openDevice, openProfile, openStore } from '../device.ts';
import { CliError } from '../errors.ts';
import { Keyring, keyringFile } from '../keyring.ts';
import { lockDir } from '../lock.ts';
import { print, warn } from '../output.ts';
import { kdfPolicy, promptHidden, readPassphrase } from '../passphrase-input.ts';

function progress(phase: BackupPhase, done: number, total: number): void {
  process.stderr.write(`${JSON.stringify({ progress: { phase, done, total } })}\n`);
}

/** A file name that says what and when, nothing about whose. */
export const defaultBackupName = (now: Date): string => `family-vault-backup-${now.toISOString().slice(0, 10)}.fhvbackup`;

interface CliDocMeta {
  readonly alias: string;
  readonly access: StoredProfile;
  readonly relay?: string;
  readonly hasLocalCopy: boolean;
}

/**
 * Where the recovery code goes (decision 0033, amended 2026-12-02). It is the device's signing
 * seed: whoever reads it holds this member's key and opens the archive. So never into an output
 * that may be a log (a pipe, a file, CI): either a new file created 0600 (`--code-file`, never
 * over an existing one), or the terminal, with a warning, when stdout is one. Otherwise the
 * backup is refused before anything is written (BACKUP_CODE_NOWHERE).
 */
type CodeSink = { readonly kind: 'file'; readonly path: string } | { readonly kind: 'terminal' };

function codeSinkOf(a: CliArgs, stdoutIsTerminal: boolean, archive: string): CodeSink {
  if (a.codeFile !== undefined) {
    const path = resolve(a.codeFile);
    if (path === archive) throw new CliError('CLI_USAGE', '--code-file must not be the backup file itself');
    if (existsSync(path)) throw new CliError('CLI_EXISTS', 'the --code-file already exists: choose another (it is never overwritten)');
    return { kind: 'file', path };
  }
  if (stdoutIsTerminal) return { kind: 'terminal' };
  throw new CliError('BACKUP_CODE_NOWHERE', 'stdout is not a terminal: pass --code-file FILE for the recovery code (it is never written to a pipe or log)');
}

/** Writes the code to a new file only this user can read; `wx` fails if it appeared meanwhile. */
function writeCodeFile(path: string, code: string): void {
  try {
    writeFileSync(path, `${code}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(errno === 'EEXIST' ? 'CLI_EXISTS' : 'BACKUP_CODE_FILE_FAILED', `the --code-file could not be created (${errno})`);
  }
}

export async function backup(a: CliArgs): Promise<void> {
  need(a, 0, 'backup [--out FILE] [--code-file FILE]');
  const out = resolve(a.out ?? defaultBackupName(new Date()));
  if (existsSync(out)) throw new CliError('CLI_EXISTS', 'the backup file already exists: choose another --out');
  const sink = codeSinkOf(a, process.stdout.isTTY === true, out);
  const dev = await openDevice(a);
  const aliases = dev.ring.aliases();
  const docs: BackupDoc[] = [];
  let records = 0;
  for (const [i, alias] of aliases.entries()) {
    const open = await openProfile(dev, alias);
    const envelope = envelopeState(open.profile);
    records += envelopeRecordCount(envelope);
    await open.close(); // keys that arrived meanwhile reach the keyring first
    const stored = dev.ring.profile(alias);
    const meta: CliDocMeta = { alias, access: encodeAccess(stored.access), ...(stored.relay ? { relay: stored.relay } : {}), hasLocalCopy: stored.hasLocalCopy };
    docs.push({ name: toBase64Url(stored.access.docId), envelope: toBase64Url(envelope), meta: meta as unknown as Record<string, unknown> });
    progress('collect', i + 1, aliases.length);
  }
  const seed = signingSeed(dev.ring.signer.secretKey);
  const body = encodePayload({ format: 'fhv-backup', v: 1, kind: 'cli', createdAt: Date.now(), identity: { boxSecretKey: toBase64Url(dev.ring.box.secretKey) }, docs });
  const file = sealArchive(seed, body, { progress: (done, total) => progress('seal', done, total) });
  body.fill(0);
  const code = encodeRecoveryCode(seed);
  // The code first: an archive whose code could not be stored is not written at all.
  if (sink.kind === 'file') writeCodeFile(sink.path, code);
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, file, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, out);
  const summary = { out, bytes: file.length, profiles: aliases.length, records };
  if (sink.kind === 'file') return print({ ...summary, codeFile: sink.path });
  warn('the recovery code below opens this backup and acts as this device: write it down, keep it apart from the file, and clear this terminal');
  print({ ...summary, recoveryCode: code });
}

async function readRecoveryCode(env: NodeJS.ProcessEnv, codeFile: string | undefined): Promise<Uint8Array> {
  let text = codeFile === undefined ? env.VAULT_RECOVERY_CODE : readCodeFile(codeFile);
  if (text === undefined) {
    if (!process.stdin.isTTY) throw new CliError('CLI_NO_PASSPHRASE', 'no recovery code: set VAULT_RECOVERY_CODE or run in a terminal');
    text = await promptHidden('Recovery code: ');
  }
  const decoded = decodeRecoveryCode(text);
  if (!decoded.ok) throw new VaultError(decoded.code, decoded.message);
  return decoded.value;
}

/** A code is ~70 characters: more than this is not a code file (and /dev/zero must not be read for ever). */
const MAX_CODE_FILE_BYTES = 4096;

function readCodeFile(path: string): string {
  let fd: number | undefined;
  try {
    fd = openSync(resolve(path), 'r');
    const buffer = Buffer.alloc(MAX_CODE_FILE_BYTES + 1);
    const n = readSync(fd, buffer, 0, buffer.length, null);
    if (n > MAX_CODE_FILE_BYTES) throw new CliError('BACKUP_CODE_FILE_FAILED', 'the --code-file is too large to be a recovery code');
    return buffer.subarray(0, n).toString('utf8').trim();
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError('BACKUP_CODE_FILE_FAILED', `the --code-file could not be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function parseMeta(raw: Record<string, unknown> | undefined): CliDocMeta & { access: StoredProfile } {
  const m = raw as Partial<CliDocMeta> | undefined;
  if (!m || typeof m.alias !== 'string' || m.alias === '' || typeof m.access !== 'object' || m.access === null || typeof m.hasLocalCopy !== 'boolean' || (m.relay !== undefined && typeof m.relay !== 'string')) {
    throw new VaultError('BACKUP_DAMAGED', "the backup's content is damaged (profile entry)");
  }
  return m as CliDocMeta;
}

export async function restore(a: CliArgs): Promise<void> {
  const [path] = need(a, 1, 'restore <file> [--force] [--code-file FILE]');
  const lock = lockDir(a.dir);
  try {
    const exists = existsSync(keyringFile(a.dir)) || existsSync(join(a.dir, 'store'));
    if (exists && !a.force) throw new VaultError('BACKUP_VAULT_EXISTS', `a vault already exists in ${a.dir}: nothing was restored (--force moves it aside first)`);
    let file: Uint8Array;
    try {
      file = new Uint8Array(readFileSync(path!));
    } catch {
      throw new CliError('CLI_USAGE', 'the backup file cannot be read');
    }
    const seed = await readRecoveryCode(process.env, a.codeFile);
    const payload = decodePayload(openArchive(seed, file, { progress: (done, total) => progress('open', done, total) }));
    if (payload.kind !== 'cli') throw new VaultError('BACKUP_VERSION', 'this backup was made by the app: restore it there ("Restore from backup")');
    const signing = signingKeyPairFromSeed(seed);
    let box;
    try {
      box = boxKeyPairFromSecretKey(fromBase64Url(payload.identity.boxSecretKey as string));
    } catch {
      throw new VaultError('BACKUP_DAMAGED', "the backup's content is damaged (keys)");
    }
    // Everything is checked before anything is written.
    const profiles: Record<string, StoredProfile> = {};
    const toStore: Array<{ name: string; update: Uint8Array }> = [];
    let records = 0;
    for (const [i, doc] of payload.docs.entries()) {
      const meta = parseMeta(doc.meta);
      if (Object.hasOwn(profiles, meta.alias)) throw new VaultError('BACKUP_DAMAGED', "the backup's content is damaged (duplicate profile)");
      let access;
      try {
        access = decodeAccess(meta.access);
      } catch {
        throw new VaultError('BACKUP_DAMAGED', "the backup's content is damaged (profile access)");
      }
      if (meta.hasLocalCopy) {
        const verified = await verifyBackupDoc(doc.name, envelopeBytes(doc), { access, signer: signing, box });
        await verified.profile.close();
        records += verified.records;
        toStore.push({ name: doc.name, update: verified.update });
      } else if (toBase64Url(access.docId) !== doc.name) {
        throw new VaultError('BACKUP_DAMAGED', "the backup's content is damaged (document id)");
      }
      profiles[meta.alias] = { ...encodeAccess(access), ...(meta.relay ? { relay: meta.relay } : {}), hasLocalCopy: meta.hasLocalCopy };
      progress('verify', i + 1, payload.docs.length);
    }
    const kdf = kdfPolicy(process.env);
    const passphrase = await readPassphrase(process.env, 'New keyring passphrase: ');
    if (exists) moveAside(a.dir);
    try {
      const store = openStore(a.dir);
      try {
        for (const [i, d] of toStore.entries()) {
          await storeEnvelope(store.persistence, d.name, d.update);
          progress('store', i + 1, toStore.length);
        }
      } finally {
        store.close();
      }
      Keyring.restore(a.dir, passphrase, kdf, { signing, box, profiles });
    } catch (e) {
      // Nothing half-restored: the store written so far goes (a moved-aside vault stays where it was put).
      rmSync(join(a.dir, 'store'), { recursive: true, force: true });
      rmSync(keyringFile(a.dir), { force: true });
      throw e;
    }
    print({ restored: Object.keys(profiles).length, records, profiles: Object.keys(profiles) });
  } finally {
    lock.release();
  }
}

/** --force: the existing keyring and store move to `replaced-<time>/` in the same directory, never deleted. */
function moveAside(dir: string): void {
  const aside = join(dir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(aside, { recursive: true, mode: 0o700 });
  if (existsSync(keyringFile(dir))) renameSync(keyringFile(dir), join(aside, 'keyring.json'));
  if (existsSync(join(dir, 'store'))) renameSync(join(dir, 'store'), join(aside, 'store'));
}
