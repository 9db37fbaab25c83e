/**
 * Owner commands and read models: `members` (roles, devices, safety codes), `audit` (the verified
 * trail, one JSON line per entry; a broken chain on stderr with a non-zero exit), `remove` and
 * `revoke` (owner-only). The member with a device is a person made in-process through the vault
 * facade, as the app makes them; everything else runs the CLI as a child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultEd25519Engine, fromBase64Url, toHex } from '../../src/lib/crypto/index.ts';
import { safetyCode } from '../../src/lib/crypto/safety-code.ts';
import { signAuditEntry } from '../../src/lib/protocol/index.ts';
import { createPerson, enrollDevice, openAsDevice } from '../../src/lib/vault/person.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { formatMemberCode } from '../../src/cli/args.ts';
import { tempDir, testRelay } from '../helpers/relay.ts';
import { CLI_TEST_TIMEOUT_MS, memberCode, ok, vault } from './run-cli.ts';

interface MemberLine {
  member: string;
  role: string;
  lockbox: boolean;
  safetyCode?: string;
  devices: Array<{ device: string; revoked: boolean; safetyCode: string }>;
}
const lines = <T>(out: string): T[] => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

describe('CLI members, audit, remove, revoke', { timeout: CLI_TEST_TIMEOUT_MS }, () => {
  let relay: Awaited<ReturnType<typeof testRelay>>;
  const owner = tempDir('fhv-adm-owner-');
  const editor = tempDir('fhv-adm-editor-');
  const { person } = createPerson();
  let device: Awaited<ReturnType<typeof enrollDevice>>;
  let onDevice: Profile;
  let ownerKey = '';
  let name = '';
  beforeAll(async () => {
    relay = await testRelay();
    ownerKey = (JSON.parse(await ok(owner.path, 'init')) as { signingKey: string }).signingKey;
    await ok(editor.path, 'init');
    const personCode = formatMemberCode(person.identity.signing.publicKey, person.identity.box.publicKey);
    name = (await ok(owner.path, 'create', 'mum', '--relay', relay.url, '--member', `${await memberCode(editor.path)}:editor`, '--member', `${personCode}:editor`)).split('\n').at(-1)!;
    await ok(owner.path, 'sync', 'mum');
    await ok(editor.path, 'join', 'mum', name, '--relay', relay.url);
    await ok(editor.path, 'sync', 'mum');
    // The person's device certifies itself in the profile and reads the identity's lockbox.
    device = await enrollDevice(person, { label: 'tablet' });
    onDevice = await openAsDevice({
      person,
      device,
      access: { docId: fromBase64Url(name), epoch: 0, epochKeys: new Map() },
      relayUrl: relay.url,
      alsoRecipient: { publicKey: person.identity.signing.publicKey, box: person.identity.box },
    });
    await onDevice.status.when((s) => s.synced, 20_000);
    await onDevice.flush(20_000);
    await ok(owner.path, 'sync', 'mum');
  }, CLI_TEST_TIMEOUT_MS);
  afterAll(async () => {
    await onDevice?.close();
    await relay.destroy();
    owner.remove();
    editor.remove();
  });

  it('members lists roles, lockboxes, devices and safety codes', async () => {
    const members = lines<MemberLine>(await ok(owner.path, 'members', 'mum'));
    expect(members.map((m) => m.role).sort()).toEqual(['editor', 'editor', 'owner']);
    const p = members.find((m) => m.member === toHex(person.identity.signing.publicKey))!;
    expect(p).toMatchObject({ lockbox: true, safetyCode: safetyCode(person.identity.signing.publicKey, person.identity.box.publicKey) });
    expect(p.devices).toEqual([{ device: toHex(device.signing.publicKey), revoked: false, safetyCode: safetyCode(device.signing.publicKey, device.box.publicKey) }]);
  });

  it('audit prints the verified trail, one JSON line per entry (who, what, when, device)', async () => {
    const r = await vault(owner.path, ['audit', 'mum']);
    expect(r.code, r.err).toBe(0);
    const entries = lines<{ who: string; what: string; when: string; device: string; subject?: string }>(r.out);
    const grants = entries.filter((e) => e.what === 'grant');
    expect(grants).toHaveLength(2);
    for (const e of grants) expect(e).toMatchObject({ who: ownerKey, device: ownerKey, when: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(grants.map((g) => g.subject)).toContain(toHex(person.identity.signing.publicKey));
  });

  it('a broken audit chain: the problem on stderr, exit non-zero, the sound chains still printed', async () => {
    // The device writes an entry that claims to be its second, with no first: the chain fails.
    const engine = await defaultEd25519Engine();
    const entry = await signAuditEntry({
      entry: { kind: 'export', at: Date.now(), actor: device.signing.publicKey, seq: 2, prev: new Uint8Array(32) },
      secretKey: device.signing.secretKey,
      engine,
    });
    await engineOf(onDevice).sync.appendAudit(entry);
    await onDevice.flush(20_000);
    await ok(owner.path, 'sync', 'mum');
    const r = await vault(owner.path, ['audit', 'mum']);
    expect(r.code).toBe(1);
    expect(r.error).toMatchObject({ code: 'CLI_AUDIT_BROKEN', number: 322 });
    const problem = r.err.split('\n').map((l) => JSON.parse(l) as { auditProblem?: { device: string; code: string } }).find((l) => l.auditProblem);
    expect(problem?.auditProblem).toMatchObject({ device: toHex(device.signing.publicKey), code: expect.stringMatching(/^AUDIT_/) });
    expect(lines<{ what: string }>(r.out).filter((e) => e.what === 'grant')).toHaveLength(2);
  });

  it('revoke and remove are owner-only, refuse unknown keys, and change the key', async () => {
    const deviceHex = toHex(device.signing.publicKey);
    const notOwner = await vault(editor.path, ['revoke', 'mum', deviceHex]);
    expect(notOwner.error).toMatchObject({ code: 'CLI_NOT_ALLOWED' });
    expect((await vault(owner.path, ['revoke', 'mum', 'ab'.repeat(32)])).error).toMatchObject({ code: 'CLI_UNKNOWN_MEMBER', number: 323 });
    const revoked = JSON.parse(await ok(owner.path, 'revoke', 'mum', deviceHex)) as { revoked: string; epoch: number };
    expect(revoked).toMatchObject({ revoked: deviceHex, epoch: 1 });
    const afterRevoke = lines<MemberLine>(await ok(owner.path, 'members', 'mum')).find((m) => m.member === toHex(person.identity.signing.publicKey))!;
    expect(afterRevoke.devices[0]).toMatchObject({ device: deviceHex, revoked: true });

    const editorKey = (JSON.parse(await ok(editor.path, 'whoami')) as { signingKey: string }).signingKey;
    expect((await vault(editor.path, ['remove', 'mum', ownerKey])).error).toMatchObject({ code: 'CLI_NOT_ALLOWED' });
    expect(JSON.parse(await ok(owner.path, 'remove', 'mum', editorKey))).toMatchObject({ removed: editorKey, epoch: 2 });
    expect(lines<MemberLine>(await ok(owner.path, 'members', 'mum')).map((m) => m.member)).not.toContain(editorKey);
    await ok(owner.path, 'sync', 'mum');
    // The removed editor is told, typed, instead of reading an empty profile.
    const removed = await vault(editor.path, ['sync', 'mum']);
    expect(removed.code).toBe(1);
    expect(['CLI_SYNC_FAILED', 'CLI_NOT_ALLOWED', 'CLI_NO_KEY']).toContain(removed.error?.code);
  });
});
