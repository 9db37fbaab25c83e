import { sha256 } from '@noble/hashes/sha2.js';
import { utf8 } from './bytes.ts';

export type Hash32 = Uint8Array & { readonly __brand: 'Hash32' };

/** len(domain) ‖ domain, built once per domain string. */
const prefixes = new Map<string, Uint8Array>();
function prefixOf(domain: string): Uint8Array {
  let prefix = prefixes.get(domain);
  if (prefix === undefined) {
    const d = utf8(domain);
    if (d.length > 255) throw new RangeError('domain too long');
    prefix = new Uint8Array(d.length + 1);
    prefix[0] = d.length;
    prefix.set(d, 1);
    prefixes.set(domain, prefix);
  }
  return prefix;
}

/**
 * Node's own SHA-256 (OpenSSL) where the runtime has it: about 4x noble on a 1 KB record, and
 * every record is hashed several times on its way from writer to reader. Looked up at run time,
 * not imported, so browser bundles never reference node:crypto; browsers use noble (WebCrypto's
 * digest is asynchronous, and these hashes are needed synchronously). Both compute the same bytes.
 */
type NodeCrypto = typeof import('node:crypto');
const nodeCrypto = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;

/**
 * Domain-separated SHA-256: H(len(domain) ‖ domain ‖ parts...). Every use in the protocol has its
 * own domain string, so a hash computed for one purpose never collides with another purpose.
 */
export function hashWithDomain(domain: string, ...parts: readonly Uint8Array[]): Hash32 {
  const prefix = prefixOf(domain);
  if (nodeCrypto) {
    const h = nodeCrypto.createHash('sha256').update(prefix);
    for (const p of parts) h.update(p);
    const digest = h.digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength) as Hash32;
  }
  return nobleHashWithDomain(domain, ...parts);
}

/** The same hash with noble alone: what browsers run (exported so Node tests can check it too). */
export function nobleHashWithDomain(domain: string, ...parts: readonly Uint8Array[]): Hash32 {
  const h = sha256.create().update(prefixOf(domain));
  for (const p of parts) h.update(p);
  return h.digest() as Hash32;
}

export { sha256 };
