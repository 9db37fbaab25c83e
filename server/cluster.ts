/**
 * Several relay instances sharing live documents (`REDIS_URL`, docs/operations.md "Scaling",
 * decision 0048), with Hocuspocus's Redis extension unchanged: an update one instance accepted
 * reaches the documents (and so the clients) of every other instance as Yjs sync messages,
 * applied with origin `{ source: 'redis' }`, and presence travels the same way.
 *
 * What the relay adds around it:
 *   - each instance keeps its record index equal to its document: the effect of every
 *     remote transaction (the changed keys of the envelope map) is folded into the index in
 *     the document's gate, behind any policy check in progress (protocol/envelope-ingest.ts);
 *     a document loaded after its index was built (another instance wrote meanwhile) is
 *     reconciled once, before the Redis initial sync;
 *   - a remote membership change closes this instance's connections that lost access, as a
 *     local one does; a remote erase order erases and closes here too;
 *   - remote updates are not appended again (the origin instance stored them; folds here
 *     carry them anyway), see server/persistence.ts.
 * Trust: Redis and the other instances are the operator's infrastructure, like the database;
 * an instance re-checks nothing another accepted. Every instance runs the same policy on what
 * its own clients send.
 */
import { Redis } from '@hocuspocus/extension-redis';
import { OutgoingMessage, type Document, type Extension } from '@hocuspocus/server';
import IORedis from 'ioredis';
import { changedEnvelopeKeys, ENVELOPE_MAP, ingestIntegrated, RecordType, type ParsedRecord } from '../src/lib/protocol/index.ts';
import type { RelayConfig } from './config.ts';
import { tombstoneOf } from './erase-members.ts';
import { isRemoteOrigin } from './origin.ts';
import { redisInternals, type RedisInternals } from './redis-internals.ts';
import type { Registry } from './registry.ts';
import { enforceMembership } from './revocation.ts';

export interface ClusterOptions {
  readonly redisUrl: string;
  readonly registry: Registry;
  readonly config: RelayConfig;
  /** What the policy calls for a local erase order (server/erase.ts). */
  readonly onErase: (document: Document, record: ParsedRecord) => Promise<void>;
}

export interface Cluster {
  /** In extension order: the index keeper (before Redis's initial sync), then Redis's. */
  readonly extensions: readonly Extension[];
  /** Readiness: Redis answers PING. */
  ping(): Promise<void>;
}

export function cluster(o: ClusterOptions): Cluster {
  const timeouts = { connectTimeout: 5_000, commandTimeout: 5_000, maxRetriesPerRequest: 2 };
  // ioredis reconnects by itself; an outage shows in /readyz, not as an unhandled error event.
  const client = (lazyConnect = false) => publishesHandled(new IORedis(o.redisUrl, { ...timeouts, lazyConnect }).on('error', () => undefined));
  const probe = client(true);
  const redis = new Redis({ createClient: () => client() });
  const internals = redisInternals(redis);
  quietPublishes(internals, o.config);
  resyncAfterOutage(internals, o.config);
  return {
    extensions: [remoteIndexExtension(o), publishAcceptedExtension(internals, o.config), redis],
    async ping() {
      if (probe.status === 'wait') await probe.connect();
      await probe.ping();
    },
  };
}

/** Keeps each loaded document's index equal to what other instances' changes did to it. */
function remoteIndexExtension(o: ClusterOptions): Extension {
  return {
    extensionName: 'fhv-remote-index',
    // Before the Redis extension (priority 1000), whose afterLoadDocument applies the other
    // instances' state: this listener must see those transactions.
    priority: 1001,
    async afterLoadDocument({ documentName, document }) {
      const entry = o.registry.get(documentName);
      const ingest = (keys: Iterable<string>) =>
        void entry.then((e) =>
          e?.gate.run(async () => {
            if (e.erased) return;
            const { added } = ingestIntegrated(e.index, document, keys);
            if (added.some((r) => r.header.type === RecordType.membership)) enforceMembership(document, e.index, o.config.now());
            const erase = added.find((r) => r.header.type === RecordType.erase);
            if (erase) {
              e.erased = tombstoneOf(e.index, erase);
              await o.onErase(document, erase);
            }
          }),
        );
      document.on('afterTransaction', (transaction) => {
        if (!isRemoteOrigin(transaction.origin)) return;
        const keys = changedEnvelopeKeys(document, transaction);
        if (keys.length > 0) ingest(keys);
      });
      // The index may predate what this load read from the shared store.
      ingest((document.getMap(ENVELOPE_MAP) as unknown as { _map: Map<string, unknown> })._map.keys());
    },
  };
}

/**
 * Each update a client sent and this instance accepted goes to the other instances at once, as
 * one Yjs update message on the document's channel (decision 0048, amendment of 2026-12-02
 * evening). The extension alone only announces a changed state vector (SyncStep1, at the end of
 * the event-loop turn); each peer answers with its own state vector, and this instance then
 * sends the difference: three Redis hops and two `encodeStateAsUpdate` diffs over the whole
 * document before a member on another instance sees an edit. The extension's receiver applies an
 * update message like that difference (origin `{ source: 'redis' }`, so the index keeper above
 * folds it the same way). The extension's own announcement is then skipped for such a change:
 * it found nothing missing, and each peer still computed a diff over the whole document for it.
 * A publish that fails falls back to that announcement (the next one that gets through carries
 * the state vector, and peers answer with what this instance lacks too); a subscriber that lost
 * Redis republishes its state vector once back (`resyncAfterOutage`). Published from
 * `onChange`, which Hocuspocus runs in microtasks after the update was applied and forwarded to
 * this instance's own connections, and before its append is posted (server/persistence.ts).
 * Only connection origins: a load's state reaches peers by the extension's initial sync, and
 * remote updates are the other instances' own.
 */
function publishAcceptedExtension(ext: RedisInternals, config: RelayConfig): Extension {
  const fromConnection = (origin: unknown) => (origin as { source?: unknown } | undefined)?.source === 'connection';
  const announce = ext.onChange.bind(ext);
  ext.onChange = async (data) => (fromConnection(data.transactionOrigin) ? undefined : announce(data));
  return {
    extensionName: 'fhv-publish-accepted',
    priority: 1001,
    async onChange({ documentName, document, update, transactionOrigin }) {
      if (!fromConnection(transactionOrigin)) return;
      const message = new OutgoingMessage(documentName).createSyncMessage().writeUpdate(update).toUint8Array();
      ext.pub.publish(ext.pubKey(documentName), ext.encodeMessage(message)).catch(() => {
        config.logger('warn', 'redis_publish_failed');
        ext.schedulePublish(documentName, document).syncStepPending = true;
      });
    },
  };
}

/**
 * The extension logs a failed publish (Redis down) with `console.error`, naming the document.
 * Relay log lines carry codes only (server/log.ts): log it as an event instead. Nothing is lost
 * by the failure itself: the next change publishes the whole state vector again, and clients
 * that reconnect sync from storage.
 */
function quietPublishes(ext: RedisInternals, config: RelayConfig): void {
  const flush = ext.flushPublish.bind(ext);
  ext.flushPublish = (name) => flush(name).catch(() => config.logger('warn', 'redis_publish_failed'));
}

/**
 * The extension answers other instances' sync steps with `reply(...)`, a publish nobody awaits:
 * while Redis is down each one became an unhandled rejection (CI, faults.test.ts). Marking every
 * publish's promise handled keeps that quiet; a caller that awaits it still sees the failure.
 */
function publishesHandled(client: IORedis): IORedis {
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<number>;
  (client as unknown as { publish: typeof publish }).publish = (...args) => {
    const sent = publish(...args);
    sent.catch(() => undefined);
    return sent;
  };
  return client;
}

/**
 * An update accepted while Redis was unreachable (its publish failed once ioredis gave up
 * retrying) reached no other instance, and the extension only publishes a document's state
 * again on its next change: with no further edit, members on different instances stayed apart
 * for good, each "synced" with its own instance (faults.test.ts, seed 11, a Redis kill after the
 * last edits). So whenever the subscriber connection is ready again (ioredis resubscribes
 * first), every loaded document announces its state vector; a peer instance answers with what
 * this one lacks and asks for what it lacks itself (the extension answers a SyncStep1 with its
 * SyncStep2 and its own SyncStep1).
 */
function resyncAfterOutage(ext: RedisInternals, config: RelayConfig): void {
  ext.sub.on('ready', () => {
    for (const [name, document] of ext.instance?.documents ?? []) {
      ext.publishFirstSyncStep(name, document).catch(() => config.logger('warn', 'redis_publish_failed'));
    }
  });
}
