/**
 * Write policy: every incoming envelope update is decoded and checked with the same module the
 * clients use (src/lib/protocol/envelope.ts), against the effect integrating it would have. A
 * refused update rejects the whole message and closes that connection; nothing of it is
 * applied or stored.
 */
import type { beforeSyncPayload, Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { Ed25519Engine } from '../src/lib/crypto/index.ts';
import { checkEnvelopeUpdate, RecordType } from '../src/lib/protocol/index.ts';
import type { ConnectionContext } from './auth.ts';
import { enforceMembership } from './revocation.ts';
import type { RelayConfig } from './config.ts';
import { RelayRefusal } from './errors.ts';
import type { Registry } from './registry.ts';

const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

export function policyExtension(registry: Registry, config: RelayConfig, engine: Ed25519Engine): Extension {
  return {
    extensionName: 'fhv-policy',
    async beforeSync(data: beforeSyncPayload): Promise<void> {
      if (data.type !== SYNC_STEP_2 && data.type !== SYNC_UPDATE) return;
      // Read-only connections: Hocuspocus refuses to apply anything they send.
      if (data.connection.readOnly) return;
      const entry = registry.get(data.documentName);
      if (!entry) throw new RelayRefusal({ code: 'TOKEN_WRONG_DOC', message: 'not a document id' }).close;
      const doc = data.document;
      const sender = (data.context as ConnectionContext | undefined)?.author;
      if (sender === undefined) throw new RelayRefusal({ code: 'TOKEN_NOT_MEMBER', message: 'not authenticated' }).close;
      await entry.gate.run(async () => {
        const verdict = await checkEnvelopeUpdate(data.payload, entry.index, {
          engine,
          now: config.now(),
          limits: config.envelope,
          stateOf: (client) => Y.getState(doc.store, client),
          sender,
        });
        if (!verdict.ok) throw new RelayRefusal(verdict).close;
        registry.bindClients(data.documentName, verdict.value.bound);
        verdict.value.commit();
        if (verdict.value.added.some((r) => r.header.type === RecordType.membership)) {
          // After this message is applied, drop members who lost access (removal, demotion).
          setTimeout(() => enforceMembership(doc, entry.index, config.now()), 0);
        }
      });
    },
  };
}
