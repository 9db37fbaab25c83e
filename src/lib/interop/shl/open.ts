/**
 * Opening any conformant SMART Health Link (STU1), ours or another sender's: check exp and
 * flags, POST the manifest {recipient, passcode, embeddedLengthMax} (or GET the file itself for
 * flag U), take each file embedded or from its location, decrypt it with the link's key, and
 * keep the FHIR JSON ones. Every request has a timeout and a size cap; answers are checked, not
 * trusted (a manifest server is a stranger). Errors never echo the link, key or content.
 */
import { fromBase64Url } from '../../crypto/bytes.ts';
import { ShlError } from './errors.ts';
import { decryptJwe } from './jwe.ts';
import { FHIR_JSON } from './link.ts';
import { isExpired, type ShlPayload } from './payload.ts';

export interface OpenOptions {
  /** Who is looking, sent to the manifest server as the spec asks (e.g. "Dr. Lee, Clinic"). */
  readonly recipient: string;
  readonly passcode?: string;
  /** Milliseconds since the epoch (exp check). */
  readonly now: number;
  readonly fetch?: typeof fetch;
  /** Per request. Default 15 s. */
  readonly timeoutMs?: number;
  /** Largest manifest or file accepted. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Asked of the server: files up to this long come embedded. Default 1 MiB. */
  readonly embeddedLengthMax?: number;
}

export interface OpenedFile {
  readonly contentType: string;
  readonly json: unknown;
}

const fetchFailed = (why: string): never => {
  throw new ShlError('SHL_FETCH_FAILED', `the shared record could not be fetched: ${why}`);
};

async function request(o: OpenOptions, url: string, init: RequestInit): Promise<{ status: number; text: string }> {
  const doFetch = o.fetch ?? fetch;
  const max = o.maxBytes ?? 16 * 1024 * 1024;
  let response: Response;
  try {
    response = await doFetch(url, {
      ...init,
      signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
      cache: 'no-store',
    });
  } catch {
    return fetchFailed('no answer in time');
  }
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > max) return fetchFailed('the answer is too large');
  let text: string;
  try {
    text = await response.text();
  } catch {
    return fetchFailed('the answer broke off');
  }
  if (text.length > max) return fetchFailed('the answer is too large');
  return { status: response.status, text };
}

const parse = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** Only https (or loopback http) locations are followed. */
function checkLocation(location: string): string {
  try {
    const u = new URL(location);
    const loopback = u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
    if (u.protocol === 'https:' || (u.protocol === 'http:' && loopback)) return location;
  } catch {
    /* refused below */
  }
  return fetchFailed('a file location is not https');
}

interface ManifestFile {
  readonly contentType: string;
  readonly jwe: () => Promise<string>;
}

async function manifestFiles(payload: ShlPayload, o: OpenOptions): Promise<ManifestFile[]> {
  const body = {
    recipient: o.recipient,
    ...(o.passcode !== undefined ? { passcode: o.passcode } : {}),
    embeddedLengthMax: o.embeddedLengthMax ?? 1024 * 1024,
  };
  const answer = await request(o, payload.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (answer.status === 401) {
    const left = (parse(answer.text) as { remainingAttempts?: unknown } | undefined)?.remainingAttempts;
    const remaining = typeof left === 'number' && Number.isInteger(left) && left >= 0 ? left : undefined;
    throw new ShlError('SHL_PASSCODE_WRONG', 'the passcode was not accepted', remaining);
  }
  if (answer.status === 404) throw new ShlError('SHL_NOT_FOUND', 'this link is no longer active (revoked, expired, or out of passcode attempts)');
  if (answer.status !== 200) return fetchFailed(`the server answered ${answer.status}`);
  const files = (parse(answer.text) as { files?: unknown } | undefined)?.files;
  if (!Array.isArray(files)) return fetchFailed('the manifest has no files');
  return files.map((f: unknown) => {
    const file = f as { contentType?: unknown; embedded?: unknown; location?: unknown };
    if (typeof file?.contentType !== 'string') return fetchFailed('a manifest file has no content type');
    if (typeof file.embedded === 'string') {
      const jwe = file.embedded;
      return { contentType: file.contentType, jwe: async () => jwe };
    }
    if (typeof file.location !== 'string') return fetchFailed('a manifest file has neither embedded content nor a location');
    const location = checkLocation(file.location);
    return { contentType: file.contentType, jwe: async () => fileAt(location, o) };
  });
}

async function fileAt(location: string, o: OpenOptions): Promise<string> {
  const answer = await request(o, location, { method: 'GET' });
  if (answer.status === 404) throw new ShlError('SHL_NOT_FOUND', 'this link is no longer active');
  if (answer.status !== 200) return fetchFailed(`the server answered ${answer.status}`);
  return answer.text.trim();
}

/** Opens the link and returns its FHIR JSON files (other content types are skipped). */
export async function openShl(payload: ShlPayload, o: OpenOptions): Promise<OpenedFile[]> {
  if (isExpired(payload, o.now)) throw new ShlError('SHL_EXPIRED', 'this link has expired');
  const flags = payload.flag ?? '';
  if (flags.includes('P') && !o.passcode) throw new ShlError('SHL_PASSCODE_REQUIRED', 'this link needs a passcode');
  const key = fromBase64Url(payload.key);
  const files: ManifestFile[] = flags.includes('U')
    ? [{ contentType: FHIR_JSON, jwe: () => fileAt(`${payload.url}?recipient=${encodeURIComponent(o.recipient)}`, o) }]
    : await manifestFiles(payload, o);
  const wanted = files.filter((f) => f.contentType === FHIR_JSON);
  if (wanted.length === 0) throw new ShlError('SHL_CONTENT_UNSUPPORTED', 'this link shares nothing this viewer can show (FHIR JSON)');
  const opened: OpenedFile[] = [];
  for (const file of wanted) {
    const { plaintext, contentType } = await decryptJwe(await file.jwe(), key);
    if (contentType !== undefined && contentType !== FHIR_JSON) throw new ShlError('SHL_CONTENT_UNSUPPORTED', 'a file is not the FHIR JSON its manifest says');
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
    } catch {
      throw new ShlError('SHL_CONTENT_UNSUPPORTED', 'a file is not valid FHIR JSON');
    }
    if (typeof (json as { resourceType?: unknown })?.resourceType !== 'string') throw new ShlError('SHL_CONTENT_UNSUPPORTED', 'a file is not a FHIR resource');
    opened.push({ contentType: FHIR_JSON, json });
  }
  return opened;
}
