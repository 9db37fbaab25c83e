/** The rune-state classes over a real vault: reads are reactive, writes validated, errors typed and PHI-free. */
import { flushSync } from 'svelte';
import { describe, expect, it } from 'vitest';
import { generateBoxKeyPair, generateSigningKeyPair } from '../../src/lib/crypto/index.ts';
import { memoryDeviceStore } from '../../src/lib/storage/device-store.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { AppState } from '../../src/lib/state/app.svelte.ts';
import { ProfileState } from '../../src/lib/state/profile.svelte.ts';
import { activeAlerts, emergencyCard } from '../../src/lib/state/care.ts';
import { cleanupList } from '../helpers/cleanup.ts';
import { createInvitation } from '../../src/lib/vault/invite.ts';
import { Role } from '../../src/lib/protocol/index.ts';

const cleanups = cleanupList();

async function profileState() {
  const profile = await Profile.create({ signer: generateSigningKeyPair(), box: generateBoxKeyPair() });
  const state = new ProfileState(profile, { displayName: 'Ana', origin: 'http://127.0.0.1' });
  cleanups.push(() => state.close());
  return { profile, state };
}

/** Runs `read` in an effect and records every value it produces. */
function track<T>(read: () => T): { values: T[]; stop: () => void } {
  const values: T[] = [];
  const stop = $effect.root(() => {
    $effect(() => {
      values.push(read());
    });
  });
  flushSync();
  return { values, stop };
}

describe('ProfileState', () => {
  it('re-reads a section when the doc changes, however the change arrived', async () => {
    const { profile, state } = await profileState();
    const seen = track(() => state.list('allergies').map((a) => a.code.text));
    expect(seen.values).toEqual([[]]);
    expect(state.save('allergies', { ...state.form('allergies').empty(), substance: 'Penicillin' })).toBeNull();
    flushSync();
    expect(seen.values.at(-1)).toEqual(['Penicillin']);
    // A write that did not go through this state object (another tab, a remote record) shows too.
    profile.records.put('allergies', { id: 'b', schemaVersion: 1, resourceType: 'AllergyIntolerance', code: { text: 'Latex' } });
    flushSync();
    expect(seen.values.at(-1)?.sort()).toEqual(['Latex', 'Penicillin']);
    seen.stop();
  });

  it('a bad form gives field errors (no value echoed) and stores nothing', async () => {
    const { state } = await profileState();
    const errors = state.save('conditions', { ...state.form('conditions').empty(), note: 'CANARY-PHI-7731' });
    expect(errors).not.toBeNull();
    expect(Object.keys(errors!)).toContain('condition');
    expect(JSON.stringify(errors)).not.toContain('CANARY');
    expect(state.list('conditions')).toEqual([]);
  });

  it('undo state and history follow my edits; names come from the profile', async () => {
    const { state } = await profileState();
    const undo = track(() => state.canUndo);
    state.save('allergies', { ...state.form('allergies').empty(), substance: 'Peanuts' });
    flushSync();
    expect(undo.values.at(-1)).toBe(true);
    const id = state.list('allergies')[0]!.id;
    expect(state.history('allergies', id).map((h) => [h.action, state.nameOf(h.author)])).toEqual([['add', 'Ana']]);
    state.undo();
    flushSync();
    expect(state.list('allergies')).toEqual([]);
    expect(state.history('allergies', id).map((h) => h.action)).toEqual(['add', 'undo']);
    undo.stop();
  });

  it('a note is reactive text; derived views read the same records', async () => {
    const { state } = await profileState();
    const note = state.note('care');
    const text = track(() => note.text);
    note.edit('Call the GP', 11, 11);
    flushSync();
    expect(text.values.at(-1)).toBe('Call the GP');
    state.put('alerts', { id: 'f', schemaVersion: 1, resourceType: 'Flag', status: 'active', code: { text: 'Fall risk' } });
    expect(activeAlerts(state)).toEqual(['Fall risk']);
    expect(emergencyCard(state, new Date()).alerts.map((a) => a.text)).toEqual(['Fall risk']);
    text.stop();
  });
});

describe('ProfileState membership', () => {
  it('re-reads members and invites when only the membership changes (no record content)', async () => {
    const { profile, state } = await profileState();
    const invites = track(() => state.invites.length);
    expect(invites.values.at(-1)).toBe(0);
    await createInvitation(profile, { origin: 'http://127.0.0.1', role: Role.viewer });
    flushSync();
    expect(invites.values.at(-1)).toBe(1);
    invites.stop();
  });
});

describe('AppState', () => {
  it('onboards, lists the family reactively, and turns failures into messages', async () => {
    const app = new AppState({ store: memoryDeviceStore() }, 'http://127.0.0.1');
    cleanups.push(() => app.session?.close());
    await app.init();
    expect(app.phase).toBe('onboarding');
    const code = await app.createIdentity({ displayName: 'Ana', deviceLabel: 'Laptop' });
    expect(app.error).toBeNull();
    expect(code).toMatch(/\S{20,}/);
    expect(app.phase).toBe('ready');
    const family = track(() => app.family.map((f) => f.name));
    await app.addFamilyMember({ name: 'Rose', relationship: 'mother' });
    flushSync();
    expect(family.values.at(-1)).toEqual(['Rose']);
    const rose = await app.open(app.family[0]!.docId);
    expect(rose.patientName).toBe('Rose');
    expect(await app.join('https://example.invalid/#/join/nope', { name: 'x', relationship: 'y', displayName: '' })).toBeNull();
    expect(app.error).toMatch(/not an invite link|relay/);
    family.stop();
  });
});
