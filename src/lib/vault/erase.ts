/**
 * Erasing a profile everywhere, on a device (decision 0035). The owner's device seals the erase
 * order (`eraseProfile`); every device that learns of it (the record in its envelope, or the
 * relay's PROFILE_ERASED refusal plus the tombstone it verifies) confirms it here
 * (`confirmErasure`) and then drops its copy and keys (the CLI: src/cli/commands/erase.ts).
 * A relay alone cannot make a device drop a profile: the order must be signed by someone this
 * device's own membership fold says is an owner.
 */
import { defaultEd25519Engine, toHex } from '../crypto/index.ts';
import { isEraseRecord, verifyTombstone, type EraseOrder } from '../protocol/index.ts';
import { CodedError } from '../errors.ts';
import { engineOf } from './engine.ts';
import { VaultError } from './person.ts';
import type { Profile } from './profile.ts';

export interface ConfirmedErasure extends EraseOrder {
  /** The owner key that signed the order (hex): for the local audit note. */
  readonly by: string;
}

/** Owners: checks the typed confirmation, then seals the order and waits until the relay stored it. */
export async function eraseProfile(profile: Profile, o: { expectedName: string; typedName: string; timeoutMs?: number }): Promise<EraseOrder> {
  if (!profile.isOwner) throw new VaultError('ERASE_NOT_OWNER', 'only an owner of this profile can delete it everywhere');
  if (o.typedName !== o.expectedName) throw new VaultError('ERASE_CONFIRM_MISMATCH', 'the confirmation does not match the profile name: nothing was erased');
  let erasedAt: number | undefined;
  try {
    ({ erasedAt } = await profile.eraseEverywhere(o.timeoutMs));
  } catch (e) {
    // Typed refusals (not an owner, read-only) pass through; a wait that timed out is judged below.
    if (e instanceof CodedError) throw e;
  }
  // flush() also returns when the connection is down or drops: only a relay that acknowledged
  // the order (nothing pending), or already erased the profile, counts. Otherwise the caller
  // must not drop this copy nor say "erased"; the sealed order goes out on the next sync.
  const s = profile.status.value;
  const stored = profile.refusal.value === 'PROFILE_ERASED' || (s.connection === 'connected' && s.synced && s.pending === 0);
  if (erasedAt === undefined || !stored) {
    throw new VaultError('ERASE_NOT_STORED', 'the relay did not confirm the erase order: nothing was dropped here; it is sent on the next sync');
  }
  return { erasedAt };
}

/** The erase record already in this device's envelope (it arrived live), if any. */
function eraseRecordHeld(profile: Profile): Uint8Array | undefined {
  for (const [, record] of engineOf(profile).sync.index.entries()) if (isEraseRecord(record)) return record.bytes;
  return undefined;
}

/**
 * The signed erase order, from this device's envelope or the relay's tombstone
 * (`GET /erased/<doc>`), verified against this device's copy. Throws ERASE_UNCONFIRMED when
 * neither verifies: the copy must then be kept.
 */
export async function confirmErasure(profile: Profile, o: { fetch?: typeof fetch; timeoutMs?: number; tombstone?: Uint8Array } = {}): Promise<ConfirmedErasure> {
  const sync = engineOf(profile).sync;
  const candidates: Uint8Array[] = [];
  const held = eraseRecordHeld(profile);
  if (held) candidates.push(held);
  // A tombstone the caller already fetched (the start/reconnect sweep, erase-sweep.ts): checked like one fetched here.
  else if (o.tombstone) candidates.push(o.tombstone);
  else {
    const fetched = await fetchTombstone(profile, o);
    if (fetched) candidates.push(fetched);
  }
  for (const bytes of candidates) {
    const order = await verifyTombstone(bytes, sync.index, await defaultEd25519Engine());
    if (order.ok) return { ...order.value, by: authorOf(bytes) };
  }
  throw new VaultError('ERASE_UNCONFIRMED', 'the relay refused this profile as erased, but no erase order from an owner verifies here');
}

function authorOf(record: Uint8Array): string {
  // Header: magic(2) version(1) type(1) docId(16) epoch(4) author(32).
  return toHex(record.subarray(24, 56));
}

async function fetchTombstone(profile: Profile, o: { fetch?: typeof fetch; timeoutMs?: number }): Promise<Uint8Array | undefined> {
  const url = profile.relayUrl;
  if (!url) return undefined;
  const ws = new URL(url);
  const base = `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}${ws.pathname.replace(/\/+$/, '')}`;
  try {
    const response = await (o.fetch ?? fetch)(`${base}/erased/${profile.name}`, {
      headers: { Authorization: `Bearer ${await profile.relayToken()}` },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
    });
    if (!response.ok) return undefined;
    return new Uint8Array(await response.arrayBuffer());
  } catch {
    return undefined;
  }
}
