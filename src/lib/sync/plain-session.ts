/**
 * The Yjs session of this device's edits to the plain doc: a clientID derived from the document,
 * the signing key and a random session number (apply.ts `clientIdFor`), so a verified record can
 * prove who wrote the structs on it. A new epoch starts a new session: edits made from then on do
 * not continue the clock of structs sealed under an older key, so a member without history (a
 * clinician) can integrate them without structs it will never read. Separate from
 * profile-sync.ts so the one rule for when the clientID changes lives in one place.
 */
import type * as Y from 'yjs';
import { toHex, type RandomSource, type SigningKeyPair } from '../crypto/index.ts';
import { clientIdFor } from './apply.ts';
import type { Outbox } from './outbox.ts';
import type { ReplicaState } from './replica-state.ts';
import { usesClient } from './yjs-internals.ts';

export interface PlainSessionContext {
  readonly docId: Uint8Array;
  readonly plain: Y.Doc;
  readonly signer: SigningKeyPair;
  readonly random: RandomSource;
  readonly outbox: Outbox;
  readonly replica: ReplicaState;
}

export class PlainSession {
  private readonly c: PlainSessionContext;
  private session = 0;
  /** The clientID derived for `session` (kept: `keep` compares with it after every remote record). */
  private sessionClientId = 0;
  /** The epoch current when the session (clientID) began. */
  private sessionEpoch = 0;

  constructor(c: PlainSessionContext) {
    this.c = c;
  }

  /** A fresh session, on a clientID the plain doc does not use yet. */
  renew(): void {
    const { plain } = this.c;
    do {
      this.session = new DataView(this.c.random(4).buffer).getUint32(0);
      this.sessionClientId = clientIdFor(this.c.docId, this.c.signer.publicKey, this.session);
      plain.clientID = this.sessionClientId;
    } while (usesClient(plain, plain.clientID));
    this.c.outbox.useSession(this.session);
    this.c.replica.clientAuthors.set(plain.clientID, toHex(this.c.signer.publicKey));
  }

  /** The membership fold took an op: a new session if the epoch moved. */
  epochIs(epoch: number): void {
    if (epoch !== this.sessionEpoch) {
      this.sessionEpoch = epoch;
      this.renew();
    }
  }

  /** After a remote apply: Yjs picks a new random clientID if it sees ours used elsewhere; ours must stay derived. */
  keep(): void {
    if (this.c.plain.clientID !== this.sessionClientId) this.renew();
  }
}
