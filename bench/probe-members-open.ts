/**
 * Probe (not part of `npm run bench`): a full open (every record verified, no plain cache) of a
 * profile whose members wrote in turns, the S13 members dimension's slow path, with the time
 * plain peer. `node bench/probe-members-open.ts [members] [edits] [trials]`; FHV_MEMBERS_DOC=file keeps
 * the document (made on the first run) so that runs before and after a change open the same one.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { generateSigningKeyPair, type SigningKeyPair } from '../src/lib/crypto/index.ts';
import { engineOf } from '../src/lib/vault/engine.ts';
import { createPlainCacheKey } from '../src/lib/vault/plain-cache.ts';
import { Profile, type ProfileAccess } from '../src/lib/vault/profile.ts';
import { membersDoc, sameState } from './lib/cost-docs.ts';
import { median, now } from './lib/common.ts';
import { deviceEngine } from './lib/sides.ts';
import { storedDevice } from './s5-coldload.ts';
import * as Y from 'yjs';

const [members, edits, trials] = [Number(process.argv[2] ?? 20), Number(process.argv[3] ?? 1000), Number(process.argv[4] ?? 5)];
// The document is kept in a file (FHV_MEMBERS_DOC) so that before/after runs open the same one.
const file = process.env.FHV_MEMBERS_DOC;
type Kept = { owner: { publicKey: string; secretKey: string }; docId: string; epoch: number; keys: Array<[number, string]>; envelope: string; plain: string; records: number };
const b64 = (u: Uint8Array) => Buffer.from(u).toString('base64');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
let owner: SigningKeyPair;
let doc: { access: ProfileAccess; envelope: Uint8Array; plain: Uint8Array; records: number };
if (file && existsSync(file)) {
  const k = JSON.parse(readFileSync(file, 'utf8')) as Kept;
  owner = { publicKey: bytes(k.owner.publicKey), secretKey: bytes(k.owner.secretKey) } as SigningKeyPair;
  doc = { access: { docId: bytes(k.docId), epoch: k.epoch, epochKeys: new Map(k.keys.map(([e, key]) => [e, bytes(key)])) as unknown as ProfileAccess['epochKeys'] }, envelope: bytes(k.envelope), plain: bytes(k.plain), records: k.records };
} else {
  owner = generateSigningKeyPair();
  doc = await membersDoc(owner, { key: await createPlainCacheKey() } as never, members, edits);
  if (file) {
    const kept: Kept = { owner: { publicKey: b64(owner.publicKey), secretKey: b64(owner.secretKey) }, docId: b64(doc.access.docId), epoch: doc.access.epoch, keys: [...doc.access.epochKeys].map(([e, key]) => [e, b64(key)]), envelope: b64(doc.envelope), plain: b64(doc.plain), records: doc.records };
    writeFileSync(file, JSON.stringify(kept));
  }
}
const engine = await deviceEngine();
const times: number[] = [];
const plain: number[] = [];
for (let t = 0; t < trials; t++) {
  const t0 = now();
  const p = await Profile.open({ signer: owner, access: doc.access, persistence: storedDevice(doc.envelope), engine });
  if ((await p.whenVerified()) !== 'verified') throw new Error('not verified');
  times.push(now() - t0);
  if (!sameState(engineOf(p).plainDoc, doc.plain)) throw new Error('other contents');
  await p.close();
  const t1 = now();
  Y.applyUpdate(new Y.Doc(), doc.plain);
  plain.push(now() - t1);
}
console.log(`members ${members}, ${doc.records} records: full open median ${median(times).toFixed(1)} ms (${times.map((x) => x.toFixed(0)).join(' ')}), plain apply ${median(plain).toFixed(2)} ms`);
