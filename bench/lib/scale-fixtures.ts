/**
 * S3's documents, made once per run by the real vault facade without a relay: for each document
 * a Profile (owner + one viewer member) whose genesis and edit records are captured as the
 * envelope updates its relay connection would send, and the same edits' plain-doc updates for
 * the plaintext side. Raw clients (scale-clients.ts) replay these bytes; tokens are signed
 * there, at connect time, from the keys kept here. Records carry no expiry, so a run's documents
 * are kept in the temp directory and reused by the next run with the same sizes.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import * as Y from 'yjs';
import { createNodeCryptoEngine } from '../../src/lib/crypto/ed25519-node.ts';
import { generateSigningKeyPair, toBase64Url } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';

export interface DocFixture {
  /** The relay's document name (base64url doc id); the plaintext side uses it too. */
  readonly name: string;
  readonly docId: Uint8Array;
  readonly genesisNonce: Uint8Array;
  /** Ed25519 secret keys (64 bytes): the owner writes, the viewer's devices only read. */
  readonly ownerSecret: Uint8Array;
  readonly viewerSecret: Uint8Array;
  /** Genesis and membership: the first update the creator sends. */
  readonly envelopeInitial: Uint8Array;
  /** One envelope update (one sealed, signed record) per edit, in order. */
  readonly envelopeEdits: Uint8Array[];
  /** The plaintext side's equivalents: the plain doc's state before the edits, then each edit. */
  readonly plainInitial: Uint8Array;
  readonly plainEdits: Uint8Array[];
}

/** Collects a doc's updates between calls to `take()`, merged into one. */
function updateTap(doc: Y.Doc): { take(): Uint8Array; stop(): void } {
  let pending: Uint8Array[] = [];
  const on = (u: Uint8Array) => pending.push(u);
  doc.on('update', on);
  return {
    take() {
      const out = pending.length === 1 ? pending[0]! : Y.mergeUpdates(pending);
      pending = [];
      return out;
    },
    stop: () => doc.off('update', on),
  };
}

/** One document with `edits` one-character edits to a note, each sealed as its own record. */
export async function makeDocFixture(edits: number): Promise<DocFixture> {
  const owner = generateSigningKeyPair();
  const viewer = generateSigningKeyPair();
  const engine = createNodeCryptoEngine();
  const profile = await Profile.create({ signer: owner, engine, members: [{ publicKey: viewer.publicKey, role: Role.viewer, expiresAt: 0 }], expirySweep: false });
  try {
    const { envelopeDoc, plainDoc } = engineOf(profile);
    await profile.flush();
    const envelopeInitial = Y.encodeStateAsUpdate(envelopeDoc);
    const plainInitial = Y.encodeStateAsUpdate(plainDoc);
    const env = updateTap(envelopeDoc);
    const plain = updateTap(plainDoc);
    const envelopeEdits: Uint8Array[] = [];
    const plainEdits: Uint8Array[] = [];
    const note = profile.note('scale');
    for (let i = 0; i < edits; i++) {
      note.replace(i, 0, 'x');
      await profile.flush();
      envelopeEdits.push(env.take());
      plainEdits.push(plain.take());
    }
    env.stop();
    plain.stop();
    const docId = profile.access.docId;
    return { name: toBase64Url(docId), docId, genesisNonce: profile.access.genesisNonce!, ownerSecret: owner.secretKey, viewerSecret: viewer.secretKey, envelopeInitial, envelopeEdits, plainInitial, plainEdits };
  } finally {
    await profile.close();
  }
}

/** Bump when the fixture format or how it is made changes. */
const FORMAT = 1;

/** `docs` documents, the first `editDocs` of them with `edits` edits each (cached in tmpdir). */
export async function loadFixtures(docs: number, editDocs: number, edits: number): Promise<DocFixture[]> {
  const file = join(tmpdir(), `fhv-s3-fixtures-v${FORMAT}-${docs}-${editDocs}-${edits}.bin`);
  // A larger cached set serves as well: its first documents, edits cut to size.
  const name = new RegExp(`^fhv-s3-fixtures-v${FORMAT}-(\\d+)-(\\d+)-(\\d+)\\.bin$`);
  const larger = readdirSync(tmpdir())
    .map((f) => [f, name.exec(f)] as const)
    .filter(([, m]) => m && Number(m[1]) >= docs && Number(m[2]) >= editDocs && Number(m[3]) >= edits)
    .map(([f]) => join(tmpdir(), f));
  for (const candidate of [file, ...larger]) {
    if (!existsSync(candidate)) continue;
    try {
      const cached = deserialize(readFileSync(candidate)) as DocFixture[];
      if (cached.length < docs) continue;
      return cached.slice(0, docs).map((f, d) => ({ ...f, envelopeEdits: d < editDocs ? f.envelopeEdits.slice(0, edits) : [], plainEdits: d < editDocs ? f.plainEdits.slice(0, edits) : [] }));
    } catch {
      // unreadable: try the next, or make them again
    }
  }
  const out: DocFixture[] = [];
  for (let d = 0; d < docs; d++) out.push(await makeDocFixture(d < editDocs ? edits : 0));
  writeFileSync(file, serialize(out));
  return out;
}

/**
 * The document's state vector after its first update and after each edit (index = edits
 * applied): what a synced client sends in its periodic SyncStep1, so the server's answer is the
 * empty diff it would be for a client that is up to date.
 */
export function stateVectors(initial: Uint8Array, edits: readonly Uint8Array[]): Uint8Array[] {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, initial);
  const out = [Y.encodeStateVector(doc)];
  for (const e of edits) {
    Y.applyUpdate(doc, e);
    out.push(Y.encodeStateVector(doc));
  }
  doc.destroy();
  return out;
}
