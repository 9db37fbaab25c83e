import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from './bytes.ts';

export type Hash32 = Uint8Array & { readonly __brand: 'Hash32' };

/**
 * Domain-separated SHA-256: H(len(domain) ‖ domain ‖ parts...). Every use in the protocol has its
 * own domain string, so a hash computed for one purpose never collides with another purpose.
 */
export function hashWithDomain(domain: string, ...parts: readonly Uint8Array[]): Hash32 {
  const d = utf8(domain);
  if (d.length > 255) throw new RangeError('domain too long');
  return sha256(concatBytes(Uint8Array.of(d.length), d, ...parts)) as Hash32;
}

export { sha256 };
