/**
 * Remote records found ready together are applied to the plain doc as one update
 * (src/lib/sync/plain-group.ts). Members writing in turns make each author's records depend on
 * other authors' later ones; taken one at a time in chain order, Yjs kept them pending and
 * re-merged the pending set on every later apply (a full open grew with the square of the
 * records: bench/README.md S13, members). The property checked is the effect, not a time: no
 * remote transaction leaves structs pending, the content equals the writers', nothing is refused.
 * Seeded: who writes how much, and where.
 */
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { Role } from '../../src/lib/protocol/index.ts';
import { REMOTE_ORIGIN } from '../../src/lib/sync/profile-sync.ts';
import { hasPending } from '../../src/lib/sync/yjs-internals.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { withSeed } from '../helpers/prng.ts';
import { envelopeOf, newMember, trackProfiles } from '../helpers/tracked-profiles.ts';

const FILE = 'tests/sync/plain-group.test.ts';
const { track, forget } = trackProfiles();
const member = newMember;
const envelope = envelopeOf;
const noteOf = (p: Profile) => engineOf(p).plainDoc.getText('note:family').toString();

describe('records from several authors, applied together', () => {
  it('a replica opening the writing of members who took turns never holds pending structs', () =>
    withSeed(FILE, 'never holds pending structs', async (prng) => {
      const people = Array.from({ length: 4 }, member);
      const members = people.slice(1).map((m) => ({ publicKey: m.signer.publicKey, boxKey: m.box.publicKey, role: Role.editor, expiresAt: 0 }));
      const owner = track(await Profile.create({ ...people[0]!, compactEvery: 1_000_000, members }));
      const access = { docId: owner.access.docId, epoch: 0, epochKeys: new Map(owner.access.epochKeys) };
      const relayed = new Y.Doc();
      Y.applyUpdate(relayed, Y.encodeStateAsUpdate(envelope(owner)));
      let writer = owner;
      // Each turn: one member catches up from the relay, writes a few records into the shared
      // note (each after the previous author's text), and hands its envelope back.
      for (let turn = 0; turn < 8; turn++) {
        if (turn > 0) {
          await writer.close();
          forget(writer);
          writer = track(await Profile.open({ ...people[turn % people.length]!, access, compactEvery: 1_000_000 }));
          Y.applyUpdate(envelope(writer), Y.encodeStateAsUpdate(relayed), 'relay');
          await engineOf(writer).sync.flush();
        }
        for (let n = prng.int(2, 5); n > 0; n--) {
          const note = engineOf(writer).plainDoc.getText('note:family');
          note.insert(prng.int(Math.max(0, note.length - 3), note.length), `${turn}${prng.word()} `);
          await engineOf(writer).sync.flush();
        }
        Y.applyUpdate(relayed, Y.encodeStateAsUpdate(envelope(writer)));
      }
      const written = noteOf(writer);

      // A fresh replica of the owner opens all of it at once.
      const cold = track(await Profile.open({ ...people[0]!, access }));
      let remote = 0;
      const pendingAfter: number[] = [];
      engineOf(cold).plainDoc.on('afterTransaction', (tr: Y.Transaction) => {
        if (tr.origin !== REMOTE_ORIGIN) return;
        remote++;
        if (hasPending(engineOf(cold).plainDoc)) pendingAfter.push(remote);
      });
      Y.applyUpdate(envelope(cold), Y.encodeStateAsUpdate(relayed), 'relay');
      await engineOf(cold).sync.flush();
      expect(noteOf(cold)).toBe(written);
      expect(cold.status.value.problems).toEqual([]);
      expect(remote).toBeGreaterThan(0);
      expect(pendingAfter, 'remote transactions after which structs were left pending').toEqual([]);
    }));
});
