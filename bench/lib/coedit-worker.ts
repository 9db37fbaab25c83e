/**
 * One S8 author in a worker thread of its own (coedit-sides.ts starts it with `clientsInWorkers`):
 * its replica (an encrypted Profile, or a stock HocuspocusProvider on a plain Y.Doc) and its
 * part of the replay run on this thread's event loop, as on a device of its own.
 * Messages: 'state' -> {clientID, state, stateVector}; 'plan' (the side's plan and this author's
 * agent number) -> 'planned'; 'go' -> replays, waits for endContent, -> {doneAt (epoch ms), text,
 * waited}; 'close' -> 'closed'. It posts 'ready' (the owner with its profile's access) once synced.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Y from 'yjs';
import { HocuspocusProvider } from '@hocuspocus/provider';
import type { SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { Role } from '../../src/lib/protocol/index.ts';
import { Profile, type ProfileAccess } from '../../src/lib/vault/profile.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import { deviceEngine } from './sides.ts';
import { now, within } from './common.ts';
import { whenText } from './trace.ts';
import { replayAgent } from './coedit-replay.ts';
import type { PlannedTxn } from './concurrent-trace.ts';

export interface AuthorSetup {
  readonly kind: 'encrypted' | 'plain';
  readonly url: string;
  /** Encrypted: the owner creates the profile (with `editors`), the others open `access`. */
  readonly signer?: SigningKeyPair;
  readonly editors?: readonly Uint8Array[];
  readonly access?: ProfileAccess;
  readonly batchWindowMs?: number;
  readonly othersActiveMs?: number;
}

const setup = workerData as AuthorSetup;
const port = parentPort!;

async function encryptedReplica(): Promise<{ doc: Y.Doc; access?: ProfileAccess; close(): Promise<void> }> {
  const common = { relayUrl: setup.url, minReconnectDelayMs: 50, batchWindowMs: setup.batchWindowMs, othersActiveMs: setup.othersActiveMs };
  if (!setup.access) {
    const owner = await Profile.create({
      ...common,
      engine: await deviceEngine(),
      signer: setup.signer!,
      members: (setup.editors ?? []).map((publicKey) => ({ publicKey: publicKey as SigningKeyPair['publicKey'], role: Role.editor, expiresAt: 0 })),
    });
    await within(owner.flush(), 15_000, 'owner genesis reaches the relay');
    return { doc: engineOf(owner).plainDoc, access: owner.access, close: () => owner.close() };
  }
  const p = await Profile.open({ ...common, engine: await deviceEngine(), signer: setup.signer!, access: setup.access });
  await within(p.status.when((s) => s.synced), 15_000, 'editor synced');
  await engineOf(p).sync.flush();
  return { doc: engineOf(p).plainDoc, close: () => p.close() };
}

async function plainReplica(): Promise<{ doc: Y.Doc; close(): Promise<void> }> {
  const doc = new Y.Doc();
  const provider = await within(
    new Promise<HocuspocusProvider>((resolve) => {
      const p: HocuspocusProvider = new HocuspocusProvider({ url: setup.url, name: 'bench-coedit', document: doc, onSynced: ({ state }) => state && resolve(p) });
    }),
    15_000,
    'plain author synced',
  );
  return {
    doc,
    async close() {
      provider.destroy();
      doc.destroy();
    },
  };
}

async function main(): Promise<void> {
  const replica = setup.kind === 'encrypted' ? await encryptedReplica() : await plainReplica();
  const { doc } = replica;
  let plan: PlannedTxn[] = [];
  let mine: number[] = [];
  let root = '';
  let endContent = '';
  port.on('message', (m: { type: string; plan?: PlannedTxn[]; agent?: number; root?: string; endContent?: string }) => {
    if (m.type === 'state') {
      port.postMessage({ type: 'state', clientID: doc.clientID, state: Y.encodeStateAsUpdateV2(doc), stateVector: Y.encodeStateVector(doc).join() });
    } else if (m.type === 'plan') {
      plan = m.plan!;
      mine = plan.flatMap((t, i) => (t.agent === m.agent ? [i] : []));
      root = m.root!;
      endContent = m.endContent!;
      port.postMessage({ type: 'planned' });
    } else if (m.type === 'go') {
      void (async () => {
        const text = doc.getText(root);
        const done = whenText(text, endContent);
        const waited = await replayAgent(doc, plan, mine);
        await done;
        port.postMessage({ type: 'done', doneAt: performance.timeOrigin + now(), text: text.toString(), waited });
      })();
    } else if (m.type === 'close') {
      void replica.close().finally(() => {
        port.postMessage({ type: 'closed' });
        process.exit(0);
      });
    }
  });
  port.postMessage({ type: 'ready', access: 'access' in replica ? replica.access : undefined });
}

void main().catch((e: unknown) => {
  console.error('[bench author]', e);
  process.exit(1);
});
