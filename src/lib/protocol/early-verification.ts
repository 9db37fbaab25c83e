/**
 * Signature checks started before the gate runs (docs/decisions/0055, 0058): it decides nothing
 * and refuses nothing, so it lives apart from the gate (envelope.ts), whose own `verifyRecord`
 * waits for the answers started here.
 */
import * as Y from 'yjs';
import type { Ed25519Engine } from '../crypto/index.ts';
import { parseRecord, startVerifying, type ParsedRecord } from './record.ts';

/** Updates larger than this (a catch-up) are not decoded an extra time to start their checks early. */
const EARLY_CHECK_MAX_BYTES = 64 * 1024;

/**
 * Starts the signature checks of the records a small envelope update carries, without deciding
 * anything (docs/decisions/0055): a client's relay connection calls it as soon as the relay's
 * message arrives (decision 0058; before, once it reached the wire doc), so the engine
 * (WebCrypto: another thread) works while the wire integrates it and the gate decodes and checks
 * it; the gate's own `verifyRecord` then waits for these answers. Malformed input is left to the
 * check itself. Returns the records whose checks it started (parsed, nothing checked).
 */
export function startVerifyingUpdate(update: Uint8Array, engine: Ed25519Engine): ParsedRecord[] {
  if (update.length > EARLY_CHECK_MAX_BYTES) return [];
  let decoded: ReturnType<typeof Y.decodeUpdate>;
  try {
    decoded = Y.decodeUpdate(update);
  } catch {
    return [];
  }
  const started: ParsedRecord[] = [];
  for (const struct of decoded.structs) {
    if (!(struct instanceof Y.Item) || !(struct.content instanceof Y.ContentBinary)) continue;
    const parsed = parseRecord(struct.content.content);
    if (!parsed.ok) continue;
    startVerifying(parsed.value, engine);
    started.push(parsed.value);
  }
  return started;
}
