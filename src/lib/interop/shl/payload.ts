/**
 * The `shlink:/` payload of HL7 SMART Health Cards and Links STU1 (docs/decisions/0031):
 * base64url of a JSON object {url, key, exp?, flag?, label?, v?}, alone or after a viewer
 * prefix and `#`. Decoding is strict: a link that breaks a SHALL of the spec is refused with
 * SHL_MALFORMED, never half-opened. Unknown members are ignored (the spec lets it grow).
 */
import { fromBase64Url, toBase64Url } from '../../crypto/bytes.ts';
import { ShlError } from './errors.ts';

export const SHLINK_PREFIX = 'shlink:/';
/** The spec caps the manifest url so the QR code stays scannable. */
export const MAX_MANIFEST_URL_LENGTH = 128;
export const MAX_LABEL_LENGTH = 80;
/** 32 bytes of key as unpadded base64url. */
export const KEY_LENGTH = 43;
/** Flags the spec defines: L long-term, P passcode, U direct file (no manifest). */
export const SHL_FLAGS = ['L', 'P', 'U'] as const;
export type ShlFlag = (typeof SHL_FLAGS)[number];

export interface ShlPayload {
  readonly url: string;
  /** base64url, 43 characters (32 bytes): the JWE key. Only ever in the link itself. */
  readonly key: string;
  /** Expiry, seconds since the epoch. */
  readonly exp?: number;
  /** Flags in alphabetical order, e.g. "LP". */
  readonly flag?: string;
  readonly label?: string;
  readonly v?: 1;
}

const bad = (why: string): never => {
  throw new ShlError('SHL_MALFORMED', `not a valid SMART Health Link: ${why}`);
};

/** An https URL; http only to a loopback host (a relay on this machine, in tests and development). */
function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0) return bad('url missing');
  if (url.length > MAX_MANIFEST_URL_LENGTH) return bad(`url longer than ${MAX_MANIFEST_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad('url is not a URL');
  }
  const loopback = parsed.hostname === 'localhost' || parsed.hostname === '127.0.0.1' || parsed.hostname === '[::1]';
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) return bad('url is not https');
  if (parsed.username || parsed.password || parsed.hash) return bad('url carries credentials or a fragment');
  return url;
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length !== KEY_LENGTH) return bad(`key is not ${KEY_LENGTH} characters`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(key);
  } catch {
    return bad('key is not base64url');
  }
  if (bytes.length !== 32) return bad('key is not 32 bytes');
  return key;
}

function checkFlag(flag: unknown): string | undefined {
  if (flag === undefined) return undefined;
  if (typeof flag !== 'string' || !/^[A-Z]*$/.test(flag)) return bad('flag is not a string of letters');
  const letters = [...flag];
  if (letters.some((f) => !(SHL_FLAGS as readonly string[]).includes(f))) return bad('unknown flag');
  if (new Set(letters).size !== letters.length || letters.join('') !== [...letters].sort().join('')) return bad('flags repeated or out of order');
  // U means the url is the file itself (GET), which leaves no manifest to take a passcode.
  if (flag.includes('U') && flag.includes('P')) return bad('flags U and P together');
  return flag;
}

/** Checks every field; returns only the members the spec defines. */
export function validatePayload(value: unknown): ShlPayload {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('payload is not an object');
  const o = value as Record<string, unknown>;
  const url = checkUrl(o.url);
  const key = checkKey(o.key);
  if (o.exp !== undefined && (typeof o.exp !== 'number' || !Number.isFinite(o.exp) || o.exp <= 0)) bad('exp is not a positive number');
  const flag = checkFlag(o.flag);
  if (o.label !== undefined && (typeof o.label !== 'string' || [...o.label].length > MAX_LABEL_LENGTH)) bad(`label is not a string of at most ${MAX_LABEL_LENGTH} characters`);
  if (o.v !== undefined && o.v !== 1) bad('unsupported version');
  return {
    url,
    key,
    ...(o.exp !== undefined ? { exp: o.exp as number } : {}),
    ...(flag ? { flag } : {}),
    ...(o.label !== undefined ? { label: o.label as string } : {}),
    ...(o.v !== undefined ? { v: 1 as const } : {}),
  };
}

/** `shlink:/` + base64url(JSON), after validating the payload. */
export function encodeShlink(payload: ShlPayload): string {
  const checked = validatePayload(payload);
  return SHLINK_PREFIX + toBase64Url(new TextEncoder().encode(JSON.stringify(checked)));
}

/** A viewer link: `<viewer>#shlink:/…` (the fragment never reaches the viewer's server). */
export function viewerLink(viewerUrl: string, payload: ShlPayload): string {
  return `${viewerUrl.replace(/#.*$/, '')}#${encodeShlink(payload)}`;
}

/** A bare `shlink:/…`, or any URL whose fragment is one. */
export function decodeShlink(text: string): ShlPayload {
  if (typeof text !== 'string') return bad('not text');
  const trimmed = text.trim();
  const at = trimmed.indexOf('#' + SHLINK_PREFIX);
  const link = trimmed.startsWith(SHLINK_PREFIX) ? trimmed : at >= 0 ? trimmed.slice(at + 1) : bad('no shlink:/ payload');
  const body = link.slice(SHLINK_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return bad('payload is not base64url');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(fromBase64Url(body)));
  } catch {
    return bad('payload is not base64url JSON');
  }
  return validatePayload(json);
}

/** Whether the link is past its exp at `nowMs`. */
export const isExpired = (p: ShlPayload, nowMs: number): boolean => p.exp !== undefined && p.exp * 1000 <= nowMs;

/**
 * What a QR code of the link holds: the spec's QR is the link text itself (byte mode). A
 * viewer-prefixed link opens in a phone's camera app; a bare one needs an SHL-aware scanner.
 */
export const qrContent = (link: string): string => link;
