/**
 * Making a SMART Health Link on the device (docs/decisions/0031): a fresh 32-byte key and a
 * 256-bit manifest id from the injected random source, the content encrypted as one JWE under
 * that key, and the `shlink:/` payload that carries the key. The relay later receives only
 * the manifest id and the JWE: the key lives in the link (its fragment, in a viewer link) and
 * nowhere else.
 */
import { toBase64Url } from '../../crypto/bytes.ts';
import type { RandomSource } from '../../crypto/random.ts';
import { ShlError } from './errors.ts';
import { encryptJwe } from './jwe.ts';
import { encodeShlink, MAX_MANIFEST_URL_LENGTH, validatePayload, viewerLink, type ShlPayload } from './payload.ts';

export const FHIR_JSON = 'application/fhir+json';
/** 32 random bytes: 256 bits, as the spec asks of the manifest URL's entropy. */
export const MANIFEST_ID_BYTES = 32;
export const MANIFEST_ID = /^[A-Za-z0-9_-]{43}$/;

export interface MakeLinkInput {
  /** The FHIR JSON to share (our IPS document Bundle). */
  readonly content: unknown;
  /** Where manifests live, e.g. `https://relay.example/shl`; the manifest URL is `<base>/<id>`. */
  readonly manifestBase: string;
  readonly random: RandomSource;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Lifetime; the link's exp is now + this, rounded down to whole seconds. */
  readonly expiresInMs?: number;
  /** Whether the relay will ask for a passcode (flag P). The passcode itself is never in the link. */
  readonly passcode?: boolean;
  readonly label?: string;
  /** A viewer page; with it the result also has `viewerLink` (`<viewer>#shlink:/…`). */
  readonly viewerUrl?: string;
}

export interface MadeLink {
  readonly manifestId: string;
  readonly payload: ShlPayload;
  /** `shlink:/…` */
  readonly link: string;
  readonly viewerLink: string | undefined;
  /** What the relay stores: ciphertext only. */
  readonly jwe: string;
}

export async function makeLink(input: MakeLinkInput): Promise<MadeLink> {
  const key = input.random(32);
  const manifestId = toBase64Url(input.random(MANIFEST_ID_BYTES));
  const iv = input.random(12);
  const url = `${input.manifestBase.replace(/\/+$/, '')}/${manifestId}`;
  if (url.length > MAX_MANIFEST_URL_LENGTH) {
    throw new ShlError('SHL_MALFORMED', `the relay address is too long for a SMART Health Link (manifest URLs are at most ${MAX_MANIFEST_URL_LENGTH} characters)`);
  }
  if (input.expiresInMs !== undefined && !(input.expiresInMs > 0)) throw new ShlError('SHL_MALFORMED', 'a link must expire in the future');
  const payload = validatePayload({
    url,
    key: toBase64Url(key),
    ...(input.expiresInMs !== undefined ? { exp: Math.floor((input.now + input.expiresInMs) / 1000) } : {}),
    ...(input.passcode ? { flag: 'P' } : {}),
    ...(input.label !== undefined ? { label: input.label } : {}),
    v: 1,
  });
  const plaintext = new TextEncoder().encode(JSON.stringify(input.content));
  const jwe = await encryptJwe(plaintext, key, { contentType: FHIR_JSON, iv });
  return {
    manifestId,
    payload,
    link: encodeShlink(payload),
    viewerLink: input.viewerUrl === undefined ? undefined : viewerLink(input.viewerUrl, payload),
    jwe,
  };
}
