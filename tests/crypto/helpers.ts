/**
 * Test-only helpers for the crypto known-answer tests.
 * Vector hex is decoded with node:buffer, not with the helpers under test,
 * so a bug in src/lib/crypto/bytes.ts cannot hide a wrong vector.
 */
import { Buffer } from 'node:buffer';
import { expect } from 'vitest';
import { CryptoError, createWebCryptoEngine, nobleEngine, tweetnaclEngine } from '../../src/lib/crypto/index.ts';
import type { CryptoErrorCode, Ed25519Engine } from '../../src/lib/crypto/index.ts';

export function hex(text: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new Error(`test vector is not hex: ${text.slice(0, 16)}…`);
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

export function toHexRef(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function engines(): Ed25519Engine[] {
  return [tweetnaclEngine, nobleEngine, createWebCryptoEngine()];
}

export function expectCryptoError(fn: () => unknown, code: CryptoErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected CryptoError ${code}`).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
}
