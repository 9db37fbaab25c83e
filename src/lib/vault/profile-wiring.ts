/**
 * The parts `Profile.open` (profile.ts) builds a profile from: its sync engine, its relay token
 * and the maker of its relay connection, each from the open's options. Separate so that `open`
 * reads as the order of the open (what is awaited when); building each part awaits nothing.
 */
import type * as Y from 'yjs';
import type { Ed25519Engine } from '../crypto/index.ts';
import { createAuthToken } from '../protocol/index.ts';
import { EpochKeyRing } from '../sync/key-ring.ts';
import { ProfileSync } from '../sync/profile-sync.ts';
import { RelayConnection } from '../sync/relay-connection.ts';
import type { OpenProfileOptions } from './profile-options.ts';

const TOKEN_LIFETIME_MS = 5 * 60 * 1000;

/** The sync engine binding the profile's plain doc to its envelope doc. */
export function profileSyncOf(o: OpenProfileOptions, plain: Y.Doc, envelope: Y.Doc, engine: Ed25519Engine): ProfileSync {
  return ProfileSync.create({
    docId: o.access.docId,
    plain,
    envelope,
    signer: o.signer,
    engine,
    keys: new EpochKeyRing(o.access.epochKeys),
    box: o.box,
    alsoRecipient: o.alsoRecipient,
    random: o.random,
    now: o.now,
    batchWindowMs: o.batchWindowMs,
    othersActiveMs: o.othersActiveMs,
    compactEvery: o.compactEvery,
    compaction: o.compaction,
  });
}

/** A fresh short-lived relay token each call (what the connection sends; blob requests use it too). */
export function relayTokenOf(o: OpenProfileOptions, engine: Ed25519Engine, now: () => number): () => Promise<string> {
  return () =>
    createAuthToken({
      secretKey: (o.authSigner ?? o.signer).secretKey,
      docId: o.access.docId,
      expiresAt: now() + TOKEN_LIFETIME_MS,
      genesisNonce: o.access.genesisNonce,
      engine,
    });
}

/** Makes the relay connection (undefined: no relay); `open` makes it once the stored envelope is loaded. */
export function connectionMakerOf(
  o: OpenProfileOptions,
  w: { name: string; envelope: Y.Doc; engine: Ed25519Engine; now: () => number; sync: ProfileSync; token: () => Promise<string> },
): (() => RelayConnection) | undefined {
  const { name, envelope, engine, now, sync, token } = w;
  return o.relayUrl
    ? () =>
        new RelayConnection({
          url: o.relayUrl!,
          name,
          docId: o.access.docId,
          envelope,
          ownKeys: o.authSigner ? [o.signer.publicKey, o.authSigner.publicKey] : [o.signer.publicKey],
          engine,
          now,
          openAhead: (record) => sync.openAhead(record),
          minReconnectDelayMs: o.minReconnectDelayMs,
          connectTimeoutMs: o.connectTimeoutMs,
          token,
          socket: o.relaySocket?.url === o.relayUrl ? o.relaySocket : undefined,
        })
    : undefined;
}

/**
 * Ends the catch-up hold (sync/catch-up-hold.ts, decision 0065) when the connection's catch-up
 * is applied, when the relay refuses it, or when the socket goes down or an attempt fails (no
 * catch-up is coming now; its "offline" state is no such sign: it passes through it on the way
 * up). Returns the unsubscribers.
 */
export function endCatchUpHoldOn(connection: RelayConnection, sync: ProfileSync): Array<() => void> {
  // A shared socket may have gone down before this profile used it.
  const downsAtAttach = connection.socket.downs.value;
  const end = () => sync.endOwnRecordHold();
  return [
    connection.synced.subscribe((synced) => {
      if (synced) end();
    }),
    connection.refusal.subscribe((refusal) => {
      if (refusal) end();
    }),
    connection.socket.downs.subscribe((n) => {
      if (n > downsAtAttach) end();
    }),
  ];
}
