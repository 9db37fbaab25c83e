/**
 * The emergency cards readable while the app is locked (docs/decisions/0043): per profile, only
 * where the owner chose it, a copy of the card's contents sealed (AES-GCM, the profile id as
 * additional data) under a device key that is not behind the lock. So the lock does not protect
 * these cards: that is the point of choosing them, and the settings say so.
 */
import { fromBase64Url, fromUtf8, secureRandom, toBase64Url, utf8, type RandomSource } from '../crypto/index.ts';
import type { EmergencyStore } from '../storage/emergency-store.ts';

export { indexeddbEmergencyStore, memoryEmergencyStore, type EmergencyStore } from '../storage/emergency-store.ts';

const aad = (docId: string) => utf8(`fhv/emergency-copy/v1/${docId}`);
const makeKey = () => globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']) as Promise<CryptoKey>;

export async function keepEmergencyCopy(store: EmergencyStore, docId: string, contents: unknown, o: { random?: RandomSource } = {}): Promise<void> {
  const key = await store.key(makeKey);
  const iv = (o.random ?? secureRandom)(12);
  const ct = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv: iv as BufferSource, additionalData: aad(docId) as BufferSource }, key, utf8(JSON.stringify(contents)) as BufferSource);
  await store.put(docId, { iv: toBase64Url(iv), ct: toBase64Url(new Uint8Array(ct)) });
}

/** Every kept card that opens (one that does not is dropped: it is only a copy). */
export async function readEmergencyCopies<T>(store: EmergencyStore): Promise<Array<{ docId: string; contents: T }>> {
  const out: Array<{ docId: string; contents: T }> = [];
  const all = await store.all();
  if (!all.length) return out;
  const key = await store.key(makeKey);
  for (const { docId, card } of all) {
    try {
      const plain = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromBase64Url(card.iv) as BufferSource, additionalData: aad(docId) as BufferSource }, key, fromBase64Url(card.ct) as BufferSource);
      out.push({ docId, contents: JSON.parse(fromUtf8(new Uint8Array(plain))) as T });
    } catch {
      await store.remove(docId);
    }
  }
  return out;
}
