/**
 * The client gate of a relay connection (relay-connection.ts): each change the relay sends is
 * checked with the relay's own write policy (`checkEnvelopeUpdate` in its replica scope) against
 * a gate index that tracks the envelope exactly, and only an accepted one reaches the envelope
 * (origin GATE_ORIGIN). Local envelope changes are committed to the same index in order. One
 * serial queue runs both, so the relay's changes are always judged against the envelope as it
 * is. Separate from the connection, which only feeds it: the provider, socket and retries are
 * none of its business.
 */
import * as Y from 'yjs';
import type { Ed25519Engine } from '../crypto/index.ts';
import { checkEnvelopeUpdate, rebuildEnvelopeIndex, type EnvelopeIndex, type EnvelopeLimits } from '../protocol/envelope.ts';
import { SerialGate } from '../protocol/serial.ts';
import { hasPending } from './yjs-internals.ts';

/** Transaction origin of the relay's changes the gate applies to the envelope. */
export const GATE_ORIGIN = Symbol('relay-gate');

/**
 * The client applies no size limits of its own to what the relay forwards (those protect the
 * relay; a sync step 2 of a whole profile may exceed them): only the invariants.
 */
const CLIENT_LIMITS: EnvelopeLimits = { maxRecordBytes: Number.MAX_SAFE_INTEGER, maxUpdateBytes: Number.MAX_SAFE_INTEGER, maxStructs: Number.MAX_SAFE_INTEGER };

export interface ClientGateOptions {
  readonly docId: Uint8Array;
  readonly envelope: Y.Doc;
  /** The doc the provider syncs: nothing is decided while it holds what Yjs cannot integrate yet. */
  readonly wire: Y.Doc;
  /** The envelope's state when the connection was made (the gate index starts from it). */
  readonly initial: Uint8Array;
  readonly engine: Promise<Ed25519Engine>;
  readonly now: () => number;
  readonly destroyed: () => boolean;
  /** A change the relay sent was refused (its stable code): it stays out of the envelope. */
  refused(code: string): void;
}

export class ClientGate {
  private readonly o: ClientGateOptions;
  private readonly gate = new SerialGate();
  private gateIndex: EnvelopeIndex;
  /** Gate jobs queued or running. */
  private gateJobs = 0;
  /** The relay's changes not yet decided on, in the order the wire integrated them. */
  private readonly remote: Uint8Array[] = [];
  /** Local envelope changes not yet committed to the gate index. */
  private localPending = 0;
  /** Local changes numbered as they happen; those up to `rebuiltThrough` are in a rebuilt index. */
  private localSeq = 0;
  private rebuiltThrough = 0;

  constructor(o: ClientGateOptions) {
    this.o = o;
    this.gateIndex = rebuildEnvelopeIndex(o.docId, o.initial).index;
  }

  /** The gate index: the envelope's verified state (own-writing.ts reads its membership). */
  get index(): EnvelopeIndex {
    return this.gateIndex;
  }

  /** A local change, already in the envelope (`before`: its state vector before the change). */
  local(update: Uint8Array, before: Map<number, number>): void {
    const seq = ++this.localSeq;
    this.localPending++;
    this.enqueue(() => this.commitLocal(update, before, seq));
  }

  /** A change integrating the relay's message made in the wire. */
  incoming(update: Uint8Array): void {
    this.remote.push(update);
    this.enqueue(() => this.pumpRemote());
  }

  private enqueue(job: () => Promise<void>): void {
    this.gateJobs++;
    void this.gate
      .run(job)
      .catch(() => undefined)
      .finally(() => this.gateJobs--);
  }

  /** Resolves once no gate job is queued or running. */
  async idle(): Promise<void> {
    while (this.gateJobs > 0) await this.gate.idle();
  }

  /**
   * A local change (already in the envelope) into the gate index. One the policy refuses (it
   * did not come through any gate: e.g. written to the envelope directly) would leave the index
   * behind the envelope, so the index is rebuilt from the envelope as it is now, which also
   * covers every local change queued after this one.
   */
  private async commitLocal(update: Uint8Array, before: Map<number, number>, seq: number): Promise<void> {
    try {
      if (seq <= this.rebuiltThrough || this.o.destroyed()) return;
      const verdict = await checkEnvelopeUpdate(update, this.gateIndex, {
        engine: await this.o.engine,
        now: this.o.now(),
        limits: CLIENT_LIMITS,
        scope: 'replica',
        stateOf: (client) => before.get(client) ?? 0,
      });
      if (verdict.ok) verdict.value.commit();
      else {
        this.gateIndex = rebuildEnvelopeIndex(this.o.docId, Y.encodeStateAsUpdate(this.o.envelope)).index;
        this.rebuiltThrough = this.localSeq;
      }
    } finally {
      this.localPending--;
      if (this.localPending === 0 && this.remote.length > 0) this.enqueue(() => this.pumpRemote());
    }
  }

  /**
   * The relay's changes, oldest first, checked against the gate index, which then equals the
   * envelope (no local change pending), and applied to the envelope only if accepted. If a
   * local change happened during a check, the check is redone after that change is committed
   * (commitLocal queues the next pump), so the relay's changes keep their order.
   *
   * While the wire holds structs or deletes Yjs could not integrate yet (a message lost or
   * reordered on the way), its changes so far may be part of one: e.g. a compaction's deletes
   * integrated before its snapshot, which waits for an earlier struct. Nothing is decided then;
   * once the wire is complete again (the next message, or anti-entropy), everything queued is
   * checked as one merged update, i.e. by its combined effect.
   */
  private async pumpRemote(): Promise<void> {
    while (this.remote.length > 0 && this.localPending === 0 && !this.o.destroyed()) {
      if (hasPending(this.o.wire)) return;
      const taken = this.remote.length;
      const update = taken === 1 ? this.remote[0]! : Y.mergeUpdates(this.remote);
      const verdict = await checkEnvelopeUpdate(update, this.gateIndex, {
        engine: await this.o.engine,
        now: this.o.now(),
        limits: CLIENT_LIMITS,
        scope: 'replica',
        stateOf: (client) => Y.getState(this.o.envelope.store, client),
      });
      if (this.o.destroyed() || this.localPending > 0) return;
      this.remote.splice(0, taken);
      if (!verdict.ok) {
        this.o.refused(verdict.code);
        continue;
      }
      verdict.value.commit();
      Y.applyUpdate(this.o.envelope, update, GATE_ORIGIN);
    }
  }
}
