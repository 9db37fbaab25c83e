/**
 * An in-memory relay and connector whose message order comes from the seed (after Yjs's
 * tests/testHelper.js TestConnector): one seed replays one interleaving exactly.
 *
 * Replicas are Profiles opened without a relay. Each has a link to the relay with two FIFO
 * queues: `up` (its envelope updates and sync replies) and `down` (the relay's broadcasts and
 * sync replies). `flushRandomMessage(prng)` delivers the head of one queue chosen by the seed and
 * awaits the receiver's processing, so nothing else orders anything.
 *
 * The relay applies the real relay's rules by calling its functions: `authenticate` (server/
 * auth.ts) on every connect, `checkEnvelopeUpdate` in relay scope with the sender (server/
 * policy.ts), and `enforceMembership` (server/revocation.ts) after membership changes and clock
 * advances. A refused update ends the link for good or reconnects it, as the real client
 * decides (sync/refusals.ts `classifyRefusal`). The client-side gate of RelayConnection is not modelled: the
 * real-relay nemesis test (convergence.test.ts) covers it.
 *
 * Sync protocol per connect, as y-protocols/Hocuspocus do it: the replica sends step 1 (its
 * state vector); the relay answers step 2 (the diff) and its own step 1; the replica answers with
 * its step 2. Until its first step 2 arrives a replica holds its local updates back (as
 * RelayConnection does, so genesis reaches the relay first) and then forces a sync, whose step 2
 * carries them.
 */
import { createHash } from 'node:crypto';
import * as Y from 'yjs';
import { toBase64Url, toHex, type Ed25519Engine, type SigningKeyPair } from '../../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, createAuthToken, EnvelopeIndex, RecordType, type DeviceCert } from '../../src/lib/protocol/index.ts';
import type { Persistence } from '../../src/lib/storage/types.ts';
import { engineOf } from '../../src/lib/vault/engine.ts';
import type { Profile } from '../../src/lib/vault/profile.ts';
import { authenticate } from '../../server/auth.ts';
import { defaultConfig } from '../../server/config.ts';
import type { Registry } from '../../server/registry.ts';
import { enforceMembership } from '../../server/revocation.ts';
import { classifyRefusal, type RefusalChannel } from '../../src/lib/sync/refusals.ts';
import type { Document } from '@hocuspocus/server';
import { hasPending } from '../../src/lib/sync/yjs-internals.ts';

/**
 * The ONE place this harness reaches past the facade, through the vault's test door
 * (vault/engine.ts `engineOf`): change it here only.
 */
export function seamOf(p: Profile) {
  const e = engineOf(p);
  return {
    /** The signed-ciphertext doc the replica syncs. */
    envelope: e.envelopeDoc,
    /** Waits until queued local edits are sealed (those that can be) and received records processed. */
    settle: () => e.sync.flush(),
    /** Whether its key for the current epoch is here (what sealing a snapshot needs). */
    holdsCurrentKey: () => p.heldKeys().has(e.sync.currentEpoch),
    /** Writes a snapshot now (the facade has no compaction operation). */
    compact: () => e.sync.compact(),
    /** Automatic compaction only while the link is up, as Profile gates it on `synced`. */
    gateCompaction: (allowed: () => boolean) => e.sync.setCompactionGate(allowed),
    epoch: () => e.sync.currentEpoch,
    /** A linked device publishes its own certificate (what openAsDevice does once genesis is in). */
    certify: (cert: DeviceCert) => e.sync.appendMembership({ kind: 'device', cert }),
    plainStateVector: () => Y.encodeStateVector(e.plainDoc),
    plainPending: () => hasPending(e.plainDoc),
  };
}

/**
 * A persistence hook that only pins the envelope doc's Yjs clientID to a seeded value (Y.Doc
 * draws it from Math.random, and it is in every envelope update's bytes).
 */
export function pinnedEnvelope(clientId: number): Persistence {
  return (envelope) => {
    envelope.clientID = clientId;
    return () => undefined;
  };
}

type Message = { kind: 'update'; bytes: Uint8Array } | { kind: 'step1'; sv: Uint8Array } | { kind: 'step2'; bytes: Uint8Array };

export interface Link {
  readonly name: string;
  readonly profile: Profile;
  /** Who the link authenticates as (a browser device: its person's identity). */
  readonly authSigner: SigningKeyPair;
  readonly genesisNonce?: Uint8Array;
  state: 'down' | 'up' | 'ended';
  /** Queues held (a stalled network): nothing delivered either way, nothing lost. */
  paused: boolean;
  synced: boolean;
  /** Why the relay ended this link (policy refusal or membership enforcement). */
  endedWith?: string;
  readonly up: Message[];
  readonly down: Message[];
  /** Local updates made before the first catch-up (sent by a forced sync, not one by one). */
  held: number;
  /**
   * RelayConnection's "wire" doc: what the relay sent lands here first, and reaches the envelope
   * only while nothing in it waits for a missing struct (a compaction's deletes never arrive
   * before its snapshot). `remote` is what the wire integrated and the envelope has not.
   */
  readonly wire: Y.Doc;
  readonly remote: Uint8Array[];
  /** Relay-side connection context, as auth.ts returns it. */
  context?: { author: string; role: number };
}

const CONNECTOR = Symbol('test-connector');

export class TestConnector {
  readonly links: Link[] = [];
  /** The relay's envelope doc: what it stores and serves. */
  readonly relayDoc = new Y.Doc();
  readonly index: EnvelopeIndex;
  /** Every terminal refusal and closure, in order: [link name, code]. */
  readonly ended: Array<[string, string]> = [];
  /** Transient refusals (the link reconnected at once): [link name, code]. */
  readonly transient: Array<[string, string]> = [];
  deliveries = 0;
  private readonly trace = createHash('sha256');
  private readonly docName: string;
  private readonly o: { docId: Uint8Array; engine: Ed25519Engine; now: () => number };
  private readonly config;
  private sender: Link | undefined;

  constructor(o: { docId: Uint8Array; engine: Ed25519Engine; now: () => number }) {
    this.o = o;
    this.docName = toBase64Url(o.docId);
    this.index = new EnvelopeIndex(o.docId);
    this.config = defaultConfig({ now: o.now });
    // Hocuspocus broadcasts what integrating a message changed to every other connection.
    this.relayDoc.on('update', (update: Uint8Array) => {
      for (const l of this.links) if (l !== this.sender && l.state === 'up') l.down.push({ kind: 'update', bytes: update });
    });
  }

  /** Adds a replica (not connected); its local envelope updates feed its link from now on. */
  add(name: string, profile: Profile, authSigner: SigningKeyPair, genesisNonce?: Uint8Array): Link {
    const seam = seamOf(profile);
    const wire = new Y.Doc();
    Y.applyUpdate(wire, Y.encodeStateAsUpdate(seam.envelope));
    const link: Link = { name, profile, authSigner, genesisNonce, state: 'down', paused: false, synced: false, up: [], down: [], held: 0, wire, remote: [] };
    seam.envelope.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === CONNECTOR) return;
      Y.applyUpdate(wire, update);
      if (link.state !== 'up') return; // while down, the next step 2 carries it
      if (link.synced) link.up.push({ kind: 'update', bytes: update });
      else link.held++;
    });
    wire.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === CONNECTOR) link.remote.push(update);
    });
    seam.gateCompaction(() => link.state === 'up' && link.synced);
    this.links.push(link);
    return link;
  }

  /** Connects with a fresh token the real `authenticate` checks; a refused token ends the link. */
  async connect(link: Link): Promise<void> {
    if (link.state !== 'down') return;
    const token = await createAuthToken({ secretKey: link.authSigner.secretKey, docId: this.o.docId, expiresAt: this.o.now() + 60_000, genesisNonce: link.genesisNonce, engine: this.o.engine });
    const registry = { get: () => ({ index: this.index }) } as unknown as Registry;
    const auth = await authenticate(registry, this.config, this.o.engine, this.docName, token);
    if (!auth.ok) return this.refuse(link, auth.code, 'auth');
    link.context = { author: toHex(auth.value.author), role: auth.value.role };
    link.state = 'up';
    link.synced = false;
    link.up.push({ kind: 'step1', sv: Y.encodeStateVector(seamOf(link.profile).envelope) });
  }

  /** The connection drops: whatever was queued on it is lost; the next connect re-syncs. */
  disconnect(link: Link): void {
    if (link.state !== 'up') return;
    link.state = 'down';
    link.synced = false;
    link.up.length = link.down.length = link.held = 0;
  }

  /** Delivers the head of one non-empty queue chosen by the seed; false when nothing is deliverable. */
  async flushRandomMessage(prng: { int(min: number, max: number): number }): Promise<boolean> {
    const ready: Array<[Link, 'up' | 'down']> = [];
    for (const l of this.links) {
      if (l.state !== 'up' || l.paused) continue;
      if (l.up.length > 0) ready.push([l, 'up']);
      if (l.down.length > 0) ready.push([l, 'down']);
    }
    if (ready.length === 0) return false;
    const [link, dir] = ready[prng.int(0, ready.length - 1)]!;
    await this.deliver(link, dir);
    return true;
  }

  /** Delivers until every queue of every live, unpaused link is empty (first-come order). */
  async flushAll(): Promise<void> {
    for (;;) {
      const next = this.links.find((l) => l.state === 'up' && !l.paused && (l.up.length > 0 || l.down.length > 0));
      if (!next) return;
      await this.deliver(next, next.up.length > 0 ? 'up' : 'down');
    }
  }

  /** Delivers only this link's messages until its queues are empty (a device's bootstrap connection). */
  async flushLink(link: Link): Promise<void> {
    while (link.state === 'up' && !link.paused && (link.up.length > 0 || link.down.length > 0)) await this.deliver(link, link.up.length > 0 ? 'up' : 'down');
  }

  /** After the clock moved: the relay closes connections of members whose access ended. */
  enforceExpiry(): void {
    enforceMembership(this.fakeDocument(), this.index, this.o.now());
  }

  /** Hash of every delivered message (link, direction, bytes) in order: equal traces, equal interleavings. */
  traceDigest(): string {
    return this.trace.copy().digest('hex');
  }

  /** The relay's stored envelope, as bytes (for canary scans and cold loads). */
  relayState(): Uint8Array {
    return Y.encodeStateAsUpdate(this.relayDoc);
  }

  private async deliver(link: Link, dir: 'up' | 'down'): Promise<void> {
    const msg = (dir === 'up' ? link.up : link.down).shift()!;
    this.deliveries++;
    this.trace.update(`${link.name}/${dir}/${msg.kind}/`);
    this.trace.update(msg.kind === 'step1' ? msg.sv : msg.bytes);
    if (dir === 'up') return this.toRelay(link, msg);
    const seam = seamOf(link.profile);
    if (msg.kind === 'step1') {
      link.up.push({ kind: 'step2', bytes: Y.encodeStateAsUpdate(seam.envelope, msg.sv) });
      return;
    }
    Y.applyUpdate(link.wire, msg.bytes, CONNECTOR);
    if (link.remote.length > 0 && !hasPending(link.wire)) {
      Y.applyUpdate(seam.envelope, Y.mergeUpdates(link.remote.splice(0)), CONNECTOR);
    }
    if (msg.kind === 'step2' && !link.synced) {
      link.synced = true;
      // Held changes travel in a sync step 2, after a forced sync (RelayConnection does so).
      if (link.held > 0) link.up.push({ kind: 'step1', sv: Y.encodeStateVector(seam.envelope) });
      link.held = 0;
    }
    await seam.settle();
  }

  /** The relay side of server/policy.ts: the whole message is checked, then applied or refused. */
  private async toRelay(link: Link, msg: Message): Promise<void> {
    if (msg.kind === 'step1') {
      link.down.push({ kind: 'step2', bytes: Y.encodeStateAsUpdate(this.relayDoc, msg.sv) });
      link.down.push({ kind: 'step1', sv: Y.encodeStateVector(this.relayDoc) });
      return;
    }
    const verdict = await checkEnvelopeUpdate(msg.bytes, this.index, {
      engine: this.o.engine,
      now: this.o.now(),
      limits: this.config.envelope,
      stateOf: (client) => Y.getState(this.relayDoc.store, client),
      sender: link.context!.author,
    });
    if (!verdict.ok) return this.refuse(link, verdict.code, 'close');
    verdict.value.commit();
    this.sender = link;
    try {
      Y.applyUpdate(this.relayDoc, msg.bytes, link);
    } finally {
      this.sender = undefined;
    }
    if (verdict.value.added.some((r) => r.header.type === RecordType.membership)) this.enforceExpiry();
  }

  /** The client's own rule (sync/refusals.ts): a terminal refusal ends the link, a transient one reconnects. */
  private async refuse(link: Link, code: string, channel: RefusalChannel): Promise<void> {
    if (classifyRefusal(code, channel) === 'terminal') return this.end(link, code);
    this.transient.push([link.name, code]);
    this.disconnect(link);
    await this.connect(link);
  }

  private end(link: Link, code: string): void {
    this.disconnect(link);
    link.state = 'ended';
    link.endedWith = code;
    this.ended.push([link.name, code]);
  }

  /** Just enough of a Hocuspocus Document for `enforceMembership`: its connections, closable. */
  private fakeDocument(): Document {
    const connections = this.links
      .filter((l) => l.state === 'up')
      .map((l) => ({ context: l.context, close: (e: { reason: string }) => this.end(l, e.reason) }));
    return { getConnections: () => connections } as unknown as Document;
  }
}
