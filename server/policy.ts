/**
 * Write policy: every incoming envelope update is decoded and checked with the same module the
 * clients use (src/lib/protocol/envelope.ts), against the effect integrating it would have. A
 * refused update rejects the whole message and closes that connection; nothing of it is
 * applied or stored. An accepted one is committed to the index and its append queued here;
 * Hocuspocus then applies and forwards it, the append is posted right after that forward, and
 * its sender's acknowledgement waits until it is durable (server/persistence.ts,
 * server/durable-ack.ts, docs/decisions/0026 and 0036).
 */
import type { beforeSyncPayload, Connection, Document, Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Ed25519Engine } from '../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, RecordType, type ParsedRecord } from '../src/lib/protocol/index.ts';
import { tombstoneOf } from './erase-members.ts';
import type { ConnectionContext } from './auth.ts';
import { enforceMembership } from './revocation.ts';
import type { RelayConfig } from './config.ts';
import type { PersistenceExtension } from './persistence.ts';
import { RelayRefusal, RelayStorageError } from './errors.ts';
import type { Registry } from './registry.ts';

const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

export function policyExtension(
  registry: Registry,
  config: RelayConfig,
  engine: Ed25519Engine,
  storage: Pick<PersistenceExtension, 'persistAccepted' | 'failed' | 'settled'>,
  /** Runs once an accepted message with an owner's erase record is applied and durable (server/erase.ts). */
  onErase?: (document: Document, record: ParsedRecord) => Promise<void>,
): Extension {
  /** Per connection, the release of its document's gate, held until its accepted message is applied. */
  const heldUntilApplied = new Map<Connection, () => void>();
  return {
    extensionName: 'fhv-policy',
    async beforeSync(data: beforeSyncPayload): Promise<void> {
      if (data.type !== SYNC_STEP_2 && data.type !== SYNC_UPDATE) return;
      // Read-only connections: Hocuspocus refuses to apply anything they send.
      if (data.connection.readOnly) return;
      const entry = await registry.get(data.documentName);
      if (!entry) throw new RelayRefusal({ code: 'TOKEN_WRONG_DOC', message: 'not a document id' }).close;
      const doc = data.document;
      const sender = (data.context as ConnectionContext | undefined)?.author;
      if (sender === undefined) throw new RelayRefusal({ code: 'TOKEN_NOT_MEMBER', message: 'not authenticated' }).close;
      // The gate makes check, index commit and apply one step per document: the next check
      // (which reads the document's clocks) starts only once this update is in the index and
      // the document. Without the last part, a device that reconnects while its update is being
      // applied would see that update's own resend refused (its keys are in the index, its
      // structs not yet in the document). The append runs on beside it, in acceptance order.
      await new Promise<void>((accepted, refused) => {
        void entry.gate.run(async () => {
          let release: () => void = () => undefined;
          const applied = new Promise<void>((r) => (release = r));
          try {
            // An append on this instance failed: it is being reset (durable-ack.ts), nothing more
            // is applied to it. The sender reconnects (4205) and finds a fresh instance.
            if (storage.failed(doc)) throw new RelayStorageError('document is being reset after a failed write');
            // Inside the gate: a message queued behind the erase is refused, never stored.
            if (entry.erased) throw new RelayRefusal({ code: 'PROFILE_ERASED', message: 'an owner erased this profile' }).close;
            const verdict = await checkEnvelopeUpdate(data.payload, entry.index, {
              engine,
              now: config.now(),
              limits: config.envelope,
              stateOf: (client) => Y.getState(doc.store, client),
              sender,
            });
            if (!verdict.ok) throw new RelayRefusal(verdict).close;
            // Hocuspocus applies and forwards the message once this hook resolves; its append
            // (with the clientID owners it establishes) is queued now (posted after the forward,
            // 0036), and the sender's SyncStatus waits for it (durable-ack.ts). A failed append
            // resets the whole document instance, index included, so index, log and document
            // never disagree for long.
            const { added, deleted, bound } = verdict.value;
            verdict.value.commit();
            storage.persistAccepted({ document: doc, connection: data.connection, update: data.payload, bindings: bound, changesRecords: added.length > 0 || deleted.length > 0 });
            if (verdict.value.added.some((r) => r.header.type === RecordType.membership)) {
              // Once this message is applied, stored and acknowledged (durable-ack.ts sends the
              // acknowledgement in the microtasks after the append commits; this waits for a
              // macrotask after that), drop members who lost access (removal, demotion, a used
              // invite key): a client closed by its own accept must have its acknowledgement first.
              void storage.settled(doc).then(() => setTimeout(() => enforceMembership(doc, entry.index, config.now()), 0));
            }
            const erase = verdict.value.added.find((r) => r.header.type === RecordType.erase);
            if (erase && onErase) {
              // Marked now, so nothing else is taken for it; the rows go once this message is
              // applied and its append (the erase record itself) is durable and acknowledged.
              entry.erased = tombstoneOf(entry.index, erase);
              void storage.settled(doc).then(() => setTimeout(() => void onErase(doc, erase), 0));
            }
          } catch (e) {
            refused(e);
            return;
          }
          heldUntilApplied.set(data.connection, release);
          accepted();
          await applied;
        });
      });
    },
    /** Hocuspocus has applied (or failed to apply) the connection's message: open the gate. */
    async afterHandleMessage({ connection }) {
      heldUntilApplied.get(connection)?.();
      heldUntilApplied.delete(connection);
    },
  };
}
