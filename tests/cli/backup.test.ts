/**
 * `vault backup` / `vault restore` end to end (docs/decisions/0033): backup, wipe, restore into a
 * fresh directory, the same records readable, a record never synced before the backup reaching
 * the relay afterwards, and two-way sync with another member through the real relay. The archive
 * holds no plaintext of a canary; a wrong or malformed code, a damaged file and an existing vault
 * are refused, typed, with nothing written.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI, CLI_TEST_TIMEOUT_MS, memberCode, ok, PASSPHRASE, vault } from './run-cli.ts';

/** Runs the CLI with a pseudo-terminal as stdout (util-linux script(1)); what the terminal showed. */
function onTerminal(dir: string, args: readonly string[]): Promise<string> {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, '--no-warnings', CLI, '--dir', dir, ...args].map(quote).join(' ');
  const env = { ...process.env, VAULT_PASSPHRASE: PASSPHRASE, VAULT_TEST_WEAK_KDF: '1' };
  return new Promise((resolve, reject) => {
    execFile('script', ['-qec', command, '/dev/null'], { env, timeout: 120_000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}

const CANARY = 'CANARY-BACKUP-4b7e9d';
const ALLERGY = `{"resourceType":"AllergyIntolerance","code":{"text":"${CANARY} penicillin"}}`;
const OFFLINE = '{"resourceType":"AllergyIntolerance","code":{"text":"Latex, written offline"}}';

describe('vault backup and restore', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const phone = tempDir('fhv-bk-phone-');
  const laptop = tempDir('fhv-bk-laptop-');
  const fresh = tempDir('fhv-bk-fresh-');
  const files = tempDir('fhv-bk-files-');
  const archive = join(files.path, 'family-vault-backup.fhvbackup');
  let code = '';
  let before = '';
  beforeAll(async () => {
    relay = await testRelay();
    await ok(phone.path, 'init');
    await ok(laptop.path, 'init');
    await ok(phone.path, 'create', 'mum', '--relay', relay.url, '--member', `${await memberCode(laptop.path)}:editor`);
    await ok(phone.path, 'set', 'mum', 'allergies', 'penicillin', ALLERGY);
    await ok(phone.path, 'note', 'mum', 'visits', '--append', `Cardiology ${CANARY}.`);
    await ok(phone.path, 'sync', 'mum');
    // Never synced: it is in this device's envelope only, so only the backup can bring it back.
    await ok(phone.path, 'set', 'mum', 'allergies', 'latex', OFFLINE);
    before = await ok(phone.path, 'get', 'mum', 'allergies');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await relay.destroy();
    for (const d of [phone, laptop, fresh, files]) d.remove();
  });

  it('never puts the recovery code into a pipe: refused without --code-file, nothing written', async () => {
    const r = await vault(phone.path, ['backup', '--out', archive]);
    expect(r.error).toMatchObject({ code: 'BACKUP_CODE_NOWHERE', number: 335 });
    expect(existsSync(archive)).toBe(false);
    expect(r.out).toBe('');
    expect(r.err).not.toMatch(/[0-9A-Z]{4}(-[0-9A-Z]{1,4}){13}/);
  });

  it('backs up to one file without plaintext, the recovery code into a new 0600 --code-file, and progress', async () => {
    const codeFile = join(files.path, 'code.txt');
    const r = await vault(phone.path, ['backup', '--out', archive, '--code-file', codeFile]);
    expect(r.code, r.err).toBe(0);
    const line = JSON.parse(r.out) as { out: string; bytes: number; profiles: number; records: number; codeFile: string };
    expect(line).toMatchObject({ out: archive, profiles: 1, codeFile });
    expect(line.records).toBeGreaterThan(2);
    code = readFileSync(codeFile, 'utf8').trim();
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{1,4}){13}$/);
    expect(statSync(codeFile).mode & 0o777).toBe(0o600);
    // Nowhere else: not on stdout, not on stderr.
    expect(r.out).not.toContain(code.slice(0, 9));
    expect(r.err).not.toContain(code.slice(0, 9));
    // An existing code file is never overwritten (and the backup is not made).
    const again = join(files.path, 'again.fhvbackup');
    expect((await vault(phone.path, ['backup', '--out', again, '--code-file', codeFile])).error).toMatchObject({ code: 'CLI_EXISTS' });
    expect(existsSync(again)).toBe(false);
    expect(readFileSync(codeFile, 'utf8').trim()).toBe(code);
    // A code file that cannot be created: typed, no archive.
    const nowhere = await vault(phone.path, ['backup', '--out', again, '--code-file', join(files.path, 'no-such-dir', 'code')]);
    expect(nowhere.error).toMatchObject({ code: 'BACKUP_CODE_FILE_FAILED', number: 336 });
    expect(existsSync(again)).toBe(false);
    // On a terminal (a pseudo-terminal through script(1)): shown, with a warning, the same code.
    const tty = await onTerminal(phone.path, ['backup', '--out', again]);
    expect(tty).toContain('"warning"');
    expect(tty).toContain(`"recoveryCode":"${code}"`);
    expect(r.err).toMatch(/"progress":\{"phase":"seal"/);
    const bytes = readFileSync(archive);
    expect(bytes.length).toBe(line.bytes);
    for (const needle of [CANARY, Buffer.from(CANARY).toString('base64'), Buffer.from(CANARY).toString('base64url'), 'penicillin', 'Cardiology']) {
      expect(bytes.includes(Buffer.from(needle)), needle).toBe(false);
    }
    // Not over an existing file.
    expect((await vault(phone.path, ['backup', '--out', archive])).error).toMatchObject({ code: 'CLI_EXISTS' });
  });

  it('refuses a wrong, malformed or missing code and a damaged file, writing nothing', async () => {
    const other = JSON.parse(await ok(files.path + '/other', 'init')) as unknown;
    expect(other).toBeTruthy();
    await ok(join(files.path, 'other'), 'backup', '--out', join(files.path, 'other.fhvbackup'), '--code-file', join(files.path, 'other.code'));
    const otherCode = readFileSync(join(files.path, 'other.code'), 'utf8').trim();
    const target = join(files.path, 'target');
    const expectNothing = () => expect(existsSync(target) ? readdirSync(target).filter((f) => f !== 'lock') : []).toEqual([]);
    const wrong = await vault(target, ['restore', archive], { env: { VAULT_RECOVERY_CODE: otherCode } });
    expect(wrong.error).toMatchObject({ code: 'BACKUP_WRONG_CODE', number: 292 });
    expectNothing();
    const malformed = await vault(target, ['restore', archive], { env: { VAULT_RECOVERY_CODE: `${code.slice(0, -1)}U` } });
    expect(malformed.error).toMatchObject({ code: 'RECOVERY_MALFORMED' });
    expect(malformed.err).not.toContain(code.slice(0, 8));
    expectNothing();
    const missing = await vault(target, ['restore', archive], { env: { VAULT_RECOVERY_CODE: undefined } });
    expect(missing.error).toMatchObject({ code: 'CLI_NO_PASSPHRASE' });
    const noFile = await vault(target, ['restore', archive, '--code-file', join(files.path, 'absent.code')], { env: { VAULT_RECOVERY_CODE: undefined } });
    expect(noFile.error).toMatchObject({ code: 'BACKUP_CODE_FILE_FAILED' });
    expectNothing();
    // Not read for ever: /dev/zero is refused as too large.
    const endless = await vault(target, ['restore', archive, '--code-file', '/dev/zero'], { env: { VAULT_RECOVERY_CODE: undefined } });
    expect(endless.error).toMatchObject({ code: 'BACKUP_CODE_FILE_FAILED' });
    expectNothing();
    const cut = join(files.path, 'cut.fhvbackup');
    const whole = readFileSync(archive);
    writeFileSync(cut, whole.subarray(0, whole.length - 10));
    expect((await vault(target, ['restore', cut], { env: { VAULT_RECOVERY_CODE: code } })).error).toMatchObject({ code: 'BACKUP_DAMAGED', number: 293 });
    expectNothing();
    writeFileSync(cut, '{"resourceType":"Bundle"}');
    expect((await vault(target, ['restore', cut], { env: { VAULT_RECOVERY_CODE: code } })).error).toMatchObject({ code: 'BACKUP_NOT_AN_ARCHIVE', number: 290 });
    expectNothing();
  });

  it('restores on a fresh install after a wipe: same records, and it keeps syncing through the relay', async () => {
    rmSync(phone.path, { recursive: true, force: true });
    // The code from the file backup wrote (the environment variable is not even set).
    const r = await vault(fresh.path, ['restore', archive, '--code-file', join(files.path, 'code.txt')], { env: { VAULT_RECOVERY_CODE: undefined } });
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ restored: 1, profiles: ['mum'] });
    expect(r.err).toMatch(/"phase":"verify"/);
    // Readable offline, equal to before (including the record that was never synced).
    expect(await ok(fresh.path, 'get', 'mum', 'allergies')).toBe(before);
    expect(await ok(fresh.path, 'note', 'mum', 'visits')).toBe(`Cardiology ${CANARY}.`);
    // Keeps syncing: the offline record reaches the other member, and the other member's edit comes back.
    expect(JSON.parse(await ok(fresh.path, 'sync', 'mum'))).toMatchObject({ state: 'synced', pending: 0, problems: [] });
    const docName = relayDocName(await ok(fresh.path, 'bundle', 'mum'));
    await ok(laptop.path, 'join', 'mum', docName, '--relay', relay.url);
    await ok(laptop.path, 'sync', 'mum');
    expect(JSON.parse(await ok(laptop.path, 'get', 'mum', 'allergies', 'latex'))).toMatchObject({ code: { text: 'Latex, written offline' } });
    await ok(laptop.path, 'note', 'mum', 'visits', '--append', ' Bring the BP log.');
    await ok(laptop.path, 'sync', 'mum');
    await ok(fresh.path, 'sync', 'mum');
    expect(await ok(fresh.path, 'note', 'mum', 'visits')).toBe(`Cardiology ${CANARY}. Bring the BP log.`);
    // And it writes: its chain continues where the backup left it, accepted by the relay.
    await ok(fresh.path, 'set', 'mum', 'allergies', 'nuts', '{"resourceType":"AllergyIntolerance","code":{"text":"Nuts"}}');
    expect(JSON.parse(await ok(fresh.path, 'sync', 'mum'))).toMatchObject({ state: 'synced', pending: 0, problems: [] });
    await ok(laptop.path, 'sync', 'mum');
    expect(JSON.parse(await ok(laptop.path, 'get', 'mum', 'allergies', 'nuts'))).toMatchObject({ id: 'nuts' });
  });

  it('refuses to restore over an existing vault unless --force, which moves it aside', async () => {
    const r = await vault(fresh.path, ['restore', archive], { env: { VAULT_RECOVERY_CODE: code } });
    expect(r.error).toMatchObject({ code: 'BACKUP_VAULT_EXISTS', number: 294 });
    expect(await ok(fresh.path, 'get', 'mum', 'allergies', 'nuts')).toContain('Nuts');
    const forced = await vault(fresh.path, ['restore', archive, '--force'], { env: { VAULT_RECOVERY_CODE: code } });
    expect(forced.code, forced.err).toBe(0);
    expect(readdirSync(fresh.path).some((f) => f.startsWith('replaced-'))).toBe(true);
    expect(await ok(fresh.path, 'get', 'mum', 'allergies')).toBe(before);
  });
});

/** The profile's relay name from an access bundle (b1.<base64url json>.<check>). */
function relayDocName(bundle: string): string {
  const body = bundle.split('.')[1]!;
  return (JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { docId: string }).docId;
}
