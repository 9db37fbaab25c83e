/**
 * Leaving (docs/decisions/0038): a member may remove its own identity, from the identity or one
 * of its certified devices; nobody but an owner removes anyone else; the last owner may not
 * leave. The relay's check (`authorizeRecord`) and the fold agree.
 */
import { describe, expect, it } from 'vitest';
import { createWebCryptoEngine, generateBoxKeyPair, generateSigningKeyPair, toHex, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { authorizeRecord, certifyDevice, deriveDocId, EnvelopeIndex, Role, type MemberEntry, type MembershipOp, type ParsedRecord, type RoleCode } from '../../src/lib/protocol/index.ts';
import { membershipRecord } from '../helpers/membership-records.ts';

const engine = createWebCryptoEngine();
const NOW = 1_000_000;
const entry = (k: SigningKeyPair, role: RoleCode): MemberEntry => ({ publicKey: k.publicKey, boxKey: generateBoxKeyPair().publicKey, role, expiresAt: 0 });

class Doc {
  readonly creator = generateSigningKeyPair();
  readonly nonce = new Uint8Array(16).fill(5);
  readonly docId = deriveDocId(this.creator.publicKey, this.nonce);
  readonly index = new EnvelopeIndex(this.docId);
  private readonly seqs = new Map<string, number>();

  private async record(author: SigningKeyPair, op: MembershipOp): Promise<ParsedRecord> {
    const hex = toHex(author.publicKey);
    const seq = (this.seqs.get(hex) ?? 0) + 1;
    this.seqs.set(hex, seq);
    return membershipRecord(this.docId, author, seq, { ...op, clock: op.kind === 'genesis' ? 0 : this.index.membership.nextClock });
  }

  async submit(author: SigningKeyPair, op: MembershipOp): Promise<string> {
    const record = await this.record(author, op);
    const verdict = await authorizeRecord(record, this.index, { engine, now: NOW });
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
  const [coOwner, editor, viewer, clinician] = [generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair(), generateSigningKeyPair()];
  const members = [entry(d.creator, Role.owner), entry(editor, Role.editor), entry(viewer, Role.viewer), entry(clinician, Role.clinician)];
  expect(await d.submit(d.creator, { kind: 'genesis', nonce: d.nonce, members })).toBe('ok');
  return { d, owner: d.creator, coOwner, editor, viewer, clinician };
}

describe('leaving a profile', () => {
  it('a viewer, a clinician and an editor may each remove themselves, and are then no members', async () => {
    const { d, editor, viewer, clinician } = await family();
    for (const who of [viewer, clinician, editor]) {
      expect(await d.submit(who, { kind: 'remove', publicKey: who.publicKey })).toBe('ok');
      expect(d.role(who)).toBeUndefined();
      expect(d.index.membership.formerRole(who.publicKey)).toBeDefined();
    }
  });

  it("a viewer's certified device removes its identity (leaving from a phone); the identity's devices act for nobody after", async () => {
    const { d, viewer } = await family();
    const phone = generateSigningKeyPair();
    const cert = await certifyDevice({ identity: viewer, device: phone.publicKey, deviceBox: generateBoxKeyPair().publicKey, issuedAt: NOW, engine });
    expect(await d.submit(phone, { kind: 'device', cert })).toBe('ok');
    expect(d.role(phone)).toBe(Role.viewer);
    expect(await d.submit(phone, { kind: 'remove', publicKey: viewer.publicKey })).toBe('ok');
    expect(d.role(viewer)).toBeUndefined();
    expect(d.role(phone)).toBeUndefined();
  });

  it('nobody but an owner removes someone else: a viewer removing the editor or the owner is refused', async () => {
    const { d, owner, editor, viewer } = await family();
    expect(await d.submit(viewer, { kind: 'remove', publicKey: editor.publicKey })).toBe('RECORD_NOT_ADMIN');
    expect(await d.submit(editor, { kind: 'remove', publicKey: owner.publicKey })).toBe('RECORD_NOT_ADMIN');
    expect(d.role(editor)).toBe(Role.editor);
    expect(d.role(owner)).toBe(Role.owner);
  });

  it('the last owner may not leave; with a second owner it may', async () => {
    const { d, owner, coOwner } = await family();
    expect(await d.submit(owner, { kind: 'remove', publicKey: owner.publicKey })).toBe('RECORD_LAST_OWNER');
    expect(await d.submit(owner, { kind: 'set', member: entry(coOwner, Role.owner) })).toBe('ok');
    expect(await d.submit(owner, { kind: 'remove', publicKey: owner.publicKey })).toBe('ok');
    expect(d.role(owner)).toBeUndefined();
    expect(d.role(coOwner)).toBe(Role.owner);
    expect(await d.submit(coOwner, { kind: 'remove', publicKey: coOwner.publicKey })).toBe('RECORD_LAST_OWNER');
  });

  it('a member who left cannot remove itself again (no longer a member: refused)', async () => {
    const { d, viewer } = await family();
    expect(await d.submit(viewer, { kind: 'remove', publicKey: viewer.publicKey })).toBe('ok');
    expect(await d.submit(viewer, { kind: 'remove', publicKey: viewer.publicKey })).toBe('RECORD_NOT_ADMIN');
  });
});
