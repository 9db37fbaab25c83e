/** Embedded persistence: load, append every change before it is acknowledged, fold on store. */
import type { Extension } from '@hocuspocus/server';
import * as Y from 'yjs';
import type { RelayConfig } from './config.ts';
import type { SqliteEnvelopeLog } from '../src/lib/storage/sqlite-log.ts';

export function persistenceExtension(store: SqliteEnvelopeLog, config: RelayConfig): Extension {
  return {
    extensionName: 'fhv-sqlite',
    async onLoadDocument({ documentName, document }) {
      const state = store.load(documentName);
      if (state) Y.applyUpdate(document, state, LOAD_ORIGIN);
    },
    async onChange({ documentName, update, transactionOrigin }) {
      if (transactionOrigin === LOAD_ORIGIN) return;
      store.append(documentName, update);
    },
    async onStoreDocument({ documentName, document }) {
      // Encode and write in one synchronous step so no appended update falls between them.
      store.store(documentName, Y.encodeStateAsUpdate(document), config.now());
    },
  };
}

const LOAD_ORIGIN = { source: 'local', skipStoreHooks: true } as const;
