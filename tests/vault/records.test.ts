/** Typed records over a profile: validated writes, proven per-record history, undo, notes. */
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { RecordError } from '../../src/lib/vault/records.ts';
import { transformIndex } from '../../src/lib/vault/note.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { memoryPersistence } from '../../src/lib/storage/memory.ts';
import { eventually } from '../helpers/eventually.ts';
import { testRelay } from '../helpers/relay.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { setField } from '../helpers/raw-edits.ts';

const cleanups = cleanupList();
const device = () => ({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
const allergy = (id: string, text: string) => ({
  id,
  schemaVersion: 1,
  resourceType: 'AllergyIntolerance',
  code: { text },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
});

async function pair(role: number = Role.editor) {
  const relay = await testRelay();
  cleanups.push(() => relay.destroy());
  const [mum, son] = [device(), device()];
  const a = await Profile.create({ ...mum, relayUrl: relay.url, minReconnectDelayMs: 50, members: [{ publicKey: son.signer.publicKey, boxKey: son.box.publicKey, role: role as never, expiresAt: 0 }] });
  cleanups.push(() => a.close());
  await a.flush();
  const b = await Profile.open({ ...son, access: a.access, relayUrl: relay.url, minReconnectDelayMs: 50 });
  cleanups.push(() => b.close());
  await b.status.when((s) => s.synced);
  return { a, b, mum, son };
}

describe('profile records', () => {
  it('validates every write: a bad record throws a typed error and changes nothing', async () => {
    const a = await Profile.create(device());
    cleanups.push(() => a.close());
    expect(() => a.records.put('allergies', { ...allergy('x1', 'CANARY-PHI-1'), code: {} })).toThrowError(RecordError);
    try {
      a.records.put('allergies', { ...allergy('x1', 'CANARY-PHI-1'), code: { text: '' } });
    } catch (e) {
      expect((e as RecordError).code).toBe('RECORD_INVALID');
      expect(JSON.stringify((e as RecordError).issues) + (e as Error).message).not.toContain('CANARY');
    }
    expect(a.records.list('allergies')).toEqual([]);
    expect(a.records.recent()).toEqual([]);
    a.records.put('allergies', allergy('x1', 'Penicillin'));
    expect(a.records.list('allergies').map((r) => r.code.text)).toEqual(['Penicillin']);
    expect(() => a.records.remove('allergies', 'nope')).toThrowError(/no longer exists/);
  });

  it('history names the signer that really wrote each change, on every replica', async () => {
    const { a, b, mum, son } = await pair();
    a.records.put('allergies', allergy('pen', 'Penicillin'));
    await a.flush();
    await eventually(() => b.records.get('allergies', 'pen') !== undefined);
    b.records.put('allergies', allergy('pen', 'Penicillin (rash)'));
    await b.flush();
    await eventually(() => a.records.get('allergies', 'pen')?.code.text === 'Penicillin (rash)');
    for (const p of [a, b]) {
      const h = p.records.history('allergies', 'pen');
      expect(h.map((e) => [e.action, e.author, e.proof])).toEqual([
        ['add', toHex(mum.signer.publicKey), 'signed'],
        ['edit', toHex(son.signer.publicKey), 'signed'],
      ]);
    }
  });

  it('concurrent edits of different fields of one record both survive (field-level merge)', async () => {
    const { a, b } = await pair();
    a.records.put('allergies', allergy('pen', 'Penicillin'));
    await a.flush();
    await eventually(() => b.records.get('allergies', 'pen') !== undefined);
    // At the same time: Ana sets the criticality, Ben records the reaction.
    a.disconnect();
    a.records.put('allergies', { ...a.records.get('allergies', 'pen')!, criticality: 'high' });
    b.records.put('allergies', { ...b.records.get('allergies', 'pen')!, reaction: [{ manifestation: [{ text: 'Hives' }] }] });
    await b.flush();
    await a.connect();
    await a.flush();
    const both = (p: Profile) => {
      const r = p.records.get('allergies', 'pen');
      return r?.criticality === 'high' && r.reaction?.[0]?.manifestation[0]?.text === 'Hives';
    };
    await eventually(() => both(a) && both(b));
    expect(a.records.list('allergies')).toEqual(b.records.list('allergies'));
  });

  it('a record stored whole (layout v1, the CLI) reads the same and becomes field-wise on its next write', async () => {
    const a = await Profile.create(device());
    cleanups.push(() => a.close());
    setField(a, 'allergies', 'old', allergy('old', 'Aspirin'));
    expect(a.records.get('allergies', 'old')?.code.text).toBe('Aspirin');
    a.records.put('allergies', { ...a.records.get('allergies', 'old')!, criticality: 'low' });
    expect(a.records.get('allergies', 'old')).toMatchObject({ code: { text: 'Aspirin' }, criticality: 'low' });
    expect(a.getField('allergies', 'old')).toMatchObject({ criticality: 'low' });
    expect(a.records.history('allergies', 'old').map((h) => h.action)).toEqual(['edit']);
    // Saving it again unchanged writes nothing and leaves no history line.
    const before = engineOf(a).plainDoc.store.clients.get(engineOf(a).plainDoc.clientID)?.length;
    a.records.put('allergies', a.records.get('allergies', 'old')!);
    expect(engineOf(a).plainDoc.store.clients.get(engineOf(a).plainDoc.clientID)?.length).toBe(before);
    expect(a.records.history('allergies', 'old')).toHaveLength(1);
  });

  it('viewers cannot write: the facade refuses before anything is sealed', async () => {
    const { a, b } = await pair(Role.viewer);
    // "Synced" means the catch-up is verified and applied: the role is known at once.
    expect(b.role).toBe(Role.viewer);
    expect(b.canWrite).toBe(false);
    expect(() => b.records.put('allergies', allergy('v', 'Latex'))).toThrowError(expect.objectContaining({ code: 'RECORD_READ_ONLY' }));
    expect(() => b.note('main').setText('viewer typing')).toThrowError(expect.objectContaining({ code: 'RECORD_READ_ONLY' }));
    expect(b.note('main').text).toBe('');
    expect(a.canWrite).toBe(true);
  });

  it('undo reverts only my own edit (a concurrent remote edit stays) and leaves a history mark', async () => {
    const { a, b } = await pair();
    a.records.put('allergies', allergy('one', 'Peanuts'));
    a.undo.stopCapturing();
    await a.flush();
    await eventually(() => b.records.get('allergies', 'one') !== undefined);
    b.records.put('allergies', allergy('two', 'Shellfish'));
    await b.flush();
    await eventually(() => a.records.get('allergies', 'two') !== undefined);
    expect(a.undo.state.value.canUndo).toBe(true);
    expect(a.undo.undo()).toBe(true);
    expect(a.records.list('allergies').map((r) => r.id)).toEqual(['two']);
    await a.flush();
    await eventually(() => b.records.get('allergies', 'one') === undefined);
    expect(b.records.history('allergies', 'one').map((e) => e.action)).toEqual(['add', 'undo']);
    expect(a.undo.redo()).toBe(true);
    expect(a.records.list('allergies').map((r) => r.id).sort()).toEqual(['one', 'two']);
  });

  it('notes merge concurrent typing; cursor tokens follow their character', async () => {
    const { a, b } = await pair();
    const na = a.note('visit');
    const nb = b.note('visit');
    na.setText('Ask about dizziness');
    await a.flush();
    await eventually(() => nb.text === 'Ask about dizziness');
    const token = nb.cursorToken(4); // before "about"
    na.replace(0, 0, 'Dr: ');
    nb.setText('Ask about dizziness.');
    await a.flush();
    await b.flush();
    await eventually(() => na.text === nb.text && na.text === 'Dr: Ask about dizziness.');
    expect(nb.cursorIndex(token)).toBe(8);
    expect(nb.cursorIndex('garbage')).toBeNull();
  });

  it('transformIndex moves a caret by a delta', () => {
    expect(transformIndex(5, [{ retain: 1 }, { insert: 'ab' }])).toBe(7);
    expect(transformIndex(5, [{ retain: 6 }, { insert: 'ab' }])).toBe(5);
    expect(transformIndex(5, [{ retain: 2 }, { delete: 2 }])).toBe(3);
    expect(transformIndex(5, [{ retain: 4 }, { delete: 4 }])).toBe(4);
    // At the caret: stays, so concurrent typing at one spot does not interleave.
    expect(transformIndex(5, [{ retain: 5 }, { insert: 'x' }])).toBe(5);
    expect(transformIndex(0, [{ insert: 'x' }])).toBe(0);
  });
});

describe('pending across reloads', () => {
  it('own records sealed offline still count as pending after the profile is reopened, until the relay has them', async () => {
    const relay = await testRelay();
    cleanups.push(() => relay.destroy());
    const persistence = memoryPersistence();
    const me = device();
    const first = await Profile.create({ ...me, persistence, relayUrl: relay.url, minReconnectDelayMs: 50 });
    first.records.put('allergies', allergy('a', 'Penicillin'));
    await first.flush();
    await first.status.when((s) => s.synced && s.pending === 0);
    const access = first.access;
    await first.close();

    const offlineUrl = 'ws://127.0.0.1:9'; // nothing listens there
    // Opened as the app does: from the store at once, connecting in the background.
    const openOffline = async () => {
      const p = await Profile.open({ ...me, access, persistence, relayUrl: offlineUrl, minReconnectDelayMs: 50, autoConnect: false });
      void p.connect().catch(() => undefined);
      return p;
    };
    const offline = await openOffline();
    expect(offline.status.value.pending).toBe(0);
    offline.records.put('allergies', allergy('b', 'Latex'));
    await engineOf(offline).sync.flush();
    await offline.close();

    const reloaded = await openOffline();
    expect(reloaded.status.value.pending).toBeGreaterThanOrEqual(1);
    expect(reloaded.status.value.state).not.toBe('synced');
    await reloaded.close();

    const online = await Profile.open({ ...me, access, persistence, relayUrl: relay.url, minReconnectDelayMs: 50 });
    cleanups.push(() => online.close());
    await online.status.when((s) => s.synced && s.pending === 0);
  });
});
