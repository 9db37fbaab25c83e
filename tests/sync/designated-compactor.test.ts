/**
 * Decision 0028: of several writers editing at once, one is designated to snapshot at the
 * byte-ratio threshold; the others only at twice it (the designated device may be gone). Every
 * replica holding the same records agrees on which writer that is, so concurrent writers no
 * longer seal one snapshot each of the same document.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { generateSigningKeyPair, nobleEngine, toHex } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { compactionDue, designatedCompactor, type CompactionPolicy } from '../../src/lib/sync/compaction.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';

const engine = nobleEngine;
const never: CompactionPolicy = { kind: 'every', records: 1_000_000 };
const policy = { kind: 'tail-ratio', tailRatio: 0.5, minTailRecords: 12 } as const satisfies CompactionPolicy;

/** Three writers whose envelope docs are joined directly (every update reaches the others at once). */
async function threeWriters() {
  const signers = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
  const owner = await Profile.create({ signer: signers[0]!, engine, compaction: never, members: signers.slice(1).map((s) => ({ publicKey: s.publicKey, role: Role.editor, expiresAt: 0 })) });
  await engineOf(owner).sync.flush();
  const state = Y.encodeStateAsUpdate(engineOf(owner).envelopeDoc);
  const profiles = [owner];
  for (const signer of signers.slice(1)) {
    profiles.push(await Profile.open({ signer, engine, compaction: never, access: owner.access, persistence: (e) => (Y.applyUpdate(e, state), () => {}) }));
  }
  const MESH = Symbol('mesh');
  for (const p of profiles) {
    engineOf(p).envelopeDoc.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin === MESH) return;
      for (const q of profiles) if (q !== p) Y.applyUpdate(engineOf(q).envelopeDoc, u, MESH);
    });
  }
  return { profiles, authors: signers.map((s) => toHex(s.publicKey)) };
}

async function typeRound(profiles: Profile[], round: number): Promise<void> {
  for (const [i, p] of profiles.entries()) {
    engineOf(p).plainDoc.getText('note:shared').insert(0, `${i}:${round} `);
    await engineOf(p).sync.flush();
  }
}

describe('designated compactor', () => {
  it('at the threshold exactly one of three concurrent writers is due, the same one on every replica; at twice the threshold all are', async () => {
    const { profiles, authors } = await threeWriters();
    let round = 0;
    while (!compactionDue(engineOf(profiles[0]!).sync.index, policy)) await typeRound(profiles, round++);
    const designated = profiles.map((p) => designatedCompactor(engineOf(p).sync.index));
    expect(new Set(designated).size).toBe(1);
    expect(authors).toContain(designated[0]);
    const due = profiles.map((p, i) => compactionDue(engineOf(p).sync.index, policy, authors[i]));
    expect(due.filter(Boolean)).toHaveLength(1);
    expect(authors[due.indexOf(true)]).toBe(designated[0]);
    // Without a designation (a single-writer caller) the threshold alone decides, as before.
    expect(profiles.every((p) => compactionDue(engineOf(p).sync.index, policy))).toBe(true);

    // The designated writer does not compact (gone): the others take over at twice the threshold.
    while (engineOf(profiles[0]!).sync.index.liveBytes.tailRecords < 2 * policy.minTailRecords) await typeRound(profiles, round++);
    expect(profiles.every((p, i) => compactionDue(engineOf(p).sync.index, policy, authors[i]))).toBe(true);

    // After one writer's snapshot, the next generation has its own designation, agreed by all.
    await engineOf(profiles[due.indexOf(false)]!).sync.compact();
    expect(profiles.every((p, i) => !compactionDue(engineOf(p).sync.index, policy, authors[i]))).toBe(true);
    const next = profiles.map((p) => designatedCompactor(engineOf(p).sync.index));
    expect(new Set(next).size).toBe(1);
    for (const p of profiles) await p.close();
  });
});
