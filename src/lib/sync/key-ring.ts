/**
 * The epoch keys this device holds for one profile: those it was given at open, plus those
 * delivered by lockboxes addressed to it. Keys are only ever added.
 */
import type { BoxKeyPair, SigningPublicKey, SymmetricKey } from '../crypto/index.ts';
import { lockboxHeader, openLockbox, type ParsedRecord, type Result } from '../protocol/index.ts';
import { bytesEqual } from '../crypto/index.ts';

export class EpochKeyRing {
  private readonly keys = new Map<number, SymmetricKey>();

  constructor(initial: Iterable<readonly [number, SymmetricKey]> = []) {
    for (const [epoch, key] of initial) this.keys.set(epoch, key);
  }

  get(epoch: number): SymmetricKey | undefined {
    return this.keys.get(epoch);
  }

  has(epoch: number): boolean {
    return this.keys.has(epoch);
  }

  add(epoch: number, key: SymmetricKey): void {
    this.keys.set(epoch, key);
  }

  /** All keys (for full members, who read the whole history), or only `epoch` (clinicians). */
  subset(epoch: number, withHistory: boolean): Map<number, SymmetricKey> {
    if (withHistory) return new Map(this.keys);
    const key = this.keys.get(epoch);
    return key ? new Map([[epoch, key]]) : new Map();
  }

  entries(): IterableIterator<[number, SymmetricKey]> {
    return this.keys.entries();
  }

  /** Takes the keys from a verified lockbox if it is addressed to `me`; returns how many were new. */
  absorb(record: ParsedRecord, o: { docId: Uint8Array; me: SigningPublicKey; box: BoxKeyPair | undefined }): Result<number> {
    const header = lockboxHeader(record.header.ext);
    if (!header.ok) return header;
    if (!o.box || !bytesEqual(header.value.recipient, o.me)) return { ok: true, value: 0 };
    const opened = openLockbox(record.header.ext, { docId: o.docId, me: o.me, box: o.box });
    if (!opened.ok) return opened;
    let added = 0;
    for (const [epoch, key] of opened.value) {
      if (!this.keys.has(epoch)) added++;
      this.keys.set(epoch, key);
    }
    return { ok: true, value: added };
  }
}
