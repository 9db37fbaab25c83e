/**
 * Work started as a relay message arrives, before the provider applies it to the wire
 * (docs/decisions/0058): the signature checks of the records its update carries, and the sync
 * engine's opening of them meanwhile. It decides nothing: the wire's change goes through the
 * client gate as before (client-gate.ts), whose `verifyRecord` waits for these checks' answers.
 * Separate from relay-connection.ts because it only reads the provider's frames, never the docs.
 */
import type { Ed25519Engine } from '../crypto/index.ts';
import { startVerifyingUpdate } from '../protocol/envelope.ts';
import { readVarBytes, readVarUint } from '../protocol/hocuspocus-frames.ts';
import type { ParsedRecord } from '../protocol/record.ts';

/** Hocuspocus's MessageType.Sync and y-protocols' messageYjsSyncStep2 / messageYjsUpdate. */
const MESSAGE_SYNC = 0;
const SYNC_STEP_2 = 1;
const SYNC_UPDATE = 2;

/** The envelope update a relay message carries (a sync step 2 or update), if it carries one. */
function updateIn(data: unknown): Uint8Array | undefined {
  const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
  if (bytes === undefined) return undefined;
  try {
    const r = { bytes, pos: 0 };
    readVarBytes(r); // the document name
    if (readVarUint(r) !== MESSAGE_SYNC) return undefined;
    const type = readVarUint(r);
    return type === SYNC_STEP_2 || type === SYNC_UPDATE ? readVarBytes(r) : undefined;
  } catch {
    return undefined; // the provider reports what it cannot read
  }
}

export class EarlyChecks {
  /** The engine once known (its signature checks start as the relay's updates arrive). */
  private engineNow: Ed25519Engine | undefined;
  private readonly openAhead: ((record: ParsedRecord) => void) | undefined;
  private readonly destroyed: () => boolean;
  /** The message being applied had its records' checks started on arrival (`arriving`). */
  private checksStarted = false;

  constructor(engine: Promise<Ed25519Engine>, openAhead: ((record: ParsedRecord) => void) | undefined, destroyed: () => boolean) {
    this.openAhead = openAhead;
    this.destroyed = destroyed;
    engine.then((e) => (this.engineNow = e)).catch(() => undefined);
  }

  /**
   * A message from the relay, before the provider applies it to the wire: the signature checks of
   * the records its update carries start now, and the sync engine opens them meanwhile
   * (docs/decisions/0058). Decides nothing: the wire's change goes through the gate as before,
   * whose `verifyRecord` waits for these checks' answers.
   */
  arriving(data: unknown): void {
    this.checksStarted = false;
    const engine = this.engineNow;
    if (engine === undefined || this.destroyed()) return;
    try {
      const update = updateIn(data);
      if (update === undefined) return;
      const records = startVerifyingUpdate(update, engine);
      this.checksStarted = true;
      if (this.openAhead) for (const record of records) this.openAhead(record);
    } catch {
      // Work ahead only: a throw here must never keep the provider from applying the message.
    }
  }

  /**
   * The wire changed integrating the relay's message: its signatures are checked meanwhile,
   * before the gate gets to it (docs/decisions/0055), started when the message arrived (decision
   * 0058) unless that could not be done then.
   */
  wireChanged(update: Uint8Array): void {
    const started = this.checksStarted;
    this.checksStarted = false;
    if (this.engineNow && !started) startVerifyingUpdate(update, this.engineNow);
  }
}
