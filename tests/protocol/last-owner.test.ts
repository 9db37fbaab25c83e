/**
 * A profile keeps an owner (RECORD_LAST_OWNER). Found by the realism fuzzer (seed 1325089206):
 * the only owner's signed "remove" of itself was accepted, the relay then closed the owner out
 * (server/revocation.ts) and nobody could ever change membership or rotate the key again. The
 * relay and a device's own writes refuse such an op; a replica folds what its relay took.
 */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, generateBoxKeyPair, generateSigningKeyPair, toHex, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import {
  authorizeRecord,
  deriveDocId,
  EnvelopeIndex,
  Role,
  type MemberEntry,
  type MembershipOp,
  type ParsedRecord,
  type RoleCode,
} from '../../src/lib/protocol/index.ts';
import { membershipRecord } from '../helpers/membership-records.ts';

const engine = createWebCryptoEngine();
const NOW = 1_000_000;
const entry = (k: SigningKeyPair, role: RoleCode, expiresAt = 0): MemberEntry => ({ publicKey: k.publicKey, boxKey: generateBoxKeyPair().publicKey, role, expiresAt });

class Doc {
  readonly creator = generateSigningKeyPair();
  readonly nonce = new Uint8Array(16).fill(3);
  readonly docId = deriveDocId(this.creator.publicKey, this.nonce);
  readonly index = new EnvelopeIndex(this.docId);
  private readonly seqs = new Map<string, number>();

  async record(author: SigningKeyPair, op: MembershipOp): Promise<ParsedRecord> {
    const hex = toHex(author.publicKey);
    const seq = (this.seqs.get(hex) ?? 0) + 1;
    this.seqs.set(hex, seq);
    const clock = op.kind === 'genesis' ? 0 : (op.clock ?? this.index.membership.nextClock);
    return membershipRecord(this.docId, author, seq, { ...op, clock });
  }

  /** What the relay (and a device's own write) runs; adds the record when accepted. */
  async submit(author: SigningKeyPair, op: MembershipOp, o: { replica?: boolean } = {}): Promise<string> {
    const record = await this.record(author, op);
    const verdict = await authorizeRecord(record, this.index, { engine, now: NOW, replica: o.replica });
    if (!verdict.ok) return verdict.code;
    this.index.add(record, undefined, verdict.value);
    return 'ok';
  }

  role(k: SigningKeyPair): number | undefined {
    return this.index.membership.roleOf(k.publicKey, NOW);
  }
}

async function family() {
  const d = new Doc();
  const [editor, viewer] = [generateSigningKeyPair(), generateSigningKeyPair()];
  expect(await d.submit(d.creator, { kind: 'genesis', nonce: d.nonce, members: [entry(d.creator, Role.owner), entry(editor, Role.editor), entry(viewer, Role.viewer)] })).toBe('ok');
  return { d, owner: d.creator, editor, viewer };
}

describe('a profile keeps an owner', () => {
  it('the only owner removing itself is refused (RECORD_LAST_OWNER) and stays owner', async () => {
    const { d, owner } = await family();
    expect(await d.submit(owner, { kind: 'remove', publicKey: owner.publicKey })).toBe('RECORD_LAST_OWNER');
    expect(d.role(owner)).toBe(Role.owner);
  });

  it('the only owner demoting itself, or setting itself an expiry-free lower role, is refused', async () => {
    const { d, owner } = await family();
    for (const role of [Role.editor, Role.viewer, Role.clinician]) {
      expect(await d.submit(owner, { kind: 'set', member: entry(owner, role) })).toBe('RECORD_LAST_OWNER');
    }
    expect(d.role(owner)).toBe(Role.owner);
  });

  it('removing and re-roling other members, and the owner re-setting itself as owner, stay allowed', async () => {
    const { d, owner, editor, viewer } = await family();
    expect(await d.submit(owner, { kind: 'remove', publicKey: viewer.publicKey })).toBe('ok');
    expect(await d.submit(owner, { kind: 'set', member: entry(editor, Role.viewer) })).toBe('ok');
    expect(await d.submit(owner, { kind: 'set', member: entry(owner, Role.owner) })).toBe('ok');
    expect(d.role(viewer)).toBeUndefined();
    expect(d.role(editor)).toBe(Role.viewer);
  });

  it('with a co-owner, an owner may leave; the co-owner, then the last one, may not', async () => {
    const { d, owner, editor } = await family();
    expect(await d.submit(owner, { kind: 'set', member: entry(editor, Role.owner) })).toBe('ok');
    expect(await d.submit(owner, { kind: 'remove', publicKey: owner.publicKey })).toBe('ok');
    expect(d.role(owner)).toBeUndefined();
    expect(await d.submit(editor, { kind: 'remove', publicKey: editor.publicKey })).toBe('RECORD_LAST_OWNER');
    expect(await d.submit(editor, { kind: 'set', member: entry(editor, Role.editor) })).toBe('RECORD_LAST_OWNER');
    expect(d.role(editor)).toBe(Role.owner);
  });

  it('a replica folds what its relay took: the check is the relay\'s and the writer\'s, not a replica\'s', async () => {
    const { d, owner } = await family();
    expect(await d.submit(owner, { kind: 'remove', publicKey: owner.publicKey }, { replica: true })).toBe('ok');
    expect(d.role(owner)).toBeUndefined();
  });
});
