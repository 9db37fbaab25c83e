/**
 * SMART Health Links through the facade (docs/decisions/0031): an owner shares the profile's
 * IPS document as a link. The IPS is built and encrypted on this device (src/lib/interop/shl);
 * the relay receives the manifest id, the JWE, the expiry and (to hash) the passcode, never the
 * key, which is only in the returned link. Sharing and revoking are audited. Opening a link
 * (the viewer) needs no profile at all.
 */
import { fromBase64Url, secureRandom, type RandomSource } from '../crypto/index.ts';
import { exportIps } from '../interop/fhir/ips-export.ts';
import { ShlError } from '../interop/shl/errors.ts';
import { makeLink, MANIFEST_ID, type MadeLink } from '../interop/shl/link.ts';
import { openShl, type OpenedFile } from '../interop/shl/open.ts';
import { decodeShlink, type ShlPayload } from '../interop/shl/payload.ts';
import { exportSourceOf, uuidV4 } from './export.ts';
import type { Profile } from './profile.ts';
import { VaultError } from './errors.ts';
import { HEALTH_LINKS_MAP } from '../../../crdt-schemas/system.ts';
import { SHL_REVOKED_DETAIL, shlMadeDetail } from './shl-list.ts';

export { ShlError, type ShlErrorCode } from '../interop/shl/errors.ts';
export { decodeShlink, isExpired, qrContent, type ShlPayload } from '../interop/shl/payload.ts';
export type { OpenedFile } from '../interop/shl/open.ts';

/** Relay requests give up after this long. */
const RELAY_TIMEOUT_MS = 20_000;

export interface ShareLinkOptions {
  /** Asked by the relay before it serves the manifest (flag P). Never part of the link. */
  readonly passcode?: string;
  readonly expiresInMs?: number;
  readonly label?: string;
  /** A viewer page for `viewerLink` (default: this relay's `/shl` page). */
  readonly viewerUrl?: string;
  readonly random?: RandomSource;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

/** The relay's HTTP(S) origin (and path) from the profile's WebSocket URL. */
function relayBase(p: Profile): string {
  const url = p.relayUrl;
  if (!url) throw new VaultError('RELAY_NOT_CONFIGURED', 'sharing a link needs a connection to the relay');
  const ws = new URL(url);
  return `${ws.protocol === 'wss:' ? 'https:' : 'http:'}//${ws.host}${ws.pathname.replace(/\/+$/, '')}`;
}

async function relayCall(p: Profile, path: string, init: { method: 'PUT' | 'DELETE'; body?: string }, f: typeof fetch = fetch): Promise<Response> {
  const token = await p.relayToken();
  try {
    return await f(`${relayBase(p)}${path}`, {
      method: init.method,
      body: init.body,
      headers: { Authorization: `Bearer ${token}`, ...(init.body ? { 'Content-Type': 'application/json' } : {}) },
      signal: AbortSignal.timeout(RELAY_TIMEOUT_MS),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch {
    throw new VaultError('RELAY_UNREACHABLE', 'could not reach the relay; please try again when online');
  }
}

function requireOwner(p: Profile): void {
  if (!p.isOwner) throw new VaultError('NOT_OWNER', 'only an owner of this profile can share it as a link');
}

/** Builds the IPS, encrypts it into a new link and stores the ciphertext on the relay. */
export async function shareLink(p: Profile, o: ShareLinkOptions = {}): Promise<MadeLink> {
  requireOwner(p);
  const base = relayBase(p);
  const now = o.now ?? (() => Date.now());
  const random = o.random ?? secureRandom;
  const ips = exportIps(exportSourceOf(p), { now, uuid: () => uuidV4(random) });
  const made = await makeLink({
    content: ips,
    manifestBase: `${base}/shl`,
    random,
    now: now(),
    expiresInMs: o.expiresInMs,
    passcode: o.passcode !== undefined,
    label: o.label,
    viewerUrl: o.viewerUrl ?? `${base}/shl`,
  });
  const body = JSON.stringify({ jwe: made.jwe, ...(made.payload.exp ? { exp: made.payload.exp } : {}), ...(o.passcode !== undefined ? { passcode: o.passcode } : {}) });
  const response = await relayCall(p, `/shl/profile/${p.name}/${made.manifestId}`, { method: 'PUT', body }, o.fetch);
  await response.arrayBuffer().catch(() => undefined);
  if (response.status !== 201) throw new ShlError('SHL_REFUSED', `the relay did not store the link (${response.status})`);
  // The owner-signed fact the list is folded from (shl-list.ts): id, expiry, passcode flag.
  // First, so the map change below (what screens watch) finds it already there.
  await p.audit('export', fromBase64Url(made.manifestId), shlMadeDetail(made.payload.exp ? made.payload.exp * 1000 : 0, o.passcode !== undefined));
  // Listed in the profile (sealed, synced) so every owner device can show and revoke it: never
  // the key (a bearer secret every reader of the profile would then hold) nor the passcode.
  p.systemMap(HEALTH_LINKS_MAP).set(made.manifestId, {
    label: made.payload.label ?? '',
    createdAt: now(),
    expiresAt: made.payload.exp ? made.payload.exp * 1000 : 0,
    passcode: o.passcode !== undefined,
    revokedAt: null,
  });
  return made;
}

/** The manifest id of a link we made (or the id itself). */
export function manifestIdOf(linkOrId: string): string {
  if (MANIFEST_ID.test(linkOrId)) return linkOrId;
  const payload: ShlPayload = decodeShlink(linkOrId);
  const id = payload.url.slice(payload.url.lastIndexOf('/') + 1);
  if (!MANIFEST_ID.test(id)) throw new ShlError('SHL_MALFORMED', 'not a link this vault made');
  return id;
}

/** Revokes a link: the relay deletes its ciphertext and answers 404 from then on. */
export async function revokeLink(p: Profile, linkOrId: string, o: { fetch?: typeof fetch; now?: () => number } = {}): Promise<void> {
  requireOwner(p);
  const id = manifestIdOf(linkOrId);
  const response = await relayCall(p, `/shl/profile/${p.name}/${id}`, { method: 'DELETE' }, o.fetch);
  await response.arrayBuffer().catch(() => undefined);
  if (response.status !== 200) throw new ShlError('SHL_REFUSED', `the relay did not revoke the link (${response.status})`);
  // The owner's signed mark first (what the list folds), then the map (what screens watch).
  await p.audit('export', fromBase64Url(id), SHL_REVOKED_DETAIL);
  const listed = p.systemMap(HEALTH_LINKS_MAP).get(id);
  // Whatever the map said (an editor may have written a mark), this owner's mark is written.
  if (listed) p.systemMap(HEALTH_LINKS_MAP).set(id, { ...listed, revokedAt: (o.now ?? Date.now)() });
}

export { healthLinks, watchHealthLinks, type HealthLinkEntry, type HealthLinkStatus } from './shl-list.ts';

/** Opens any conformant link (the viewer): decode, fetch, decrypt. */
export async function openSharedLink(
  text: string,
  o: { recipient: string; passcode?: string; now?: number; fetch?: typeof fetch },
): Promise<{ payload: ShlPayload; files: OpenedFile[] }> {
  const payload = decodeShlink(text);
  const files = await openShl(payload, { recipient: o.recipient, passcode: o.passcode, now: o.now ?? Date.now(), fetch: o.fetch });
  return { payload, files };
}

export { ipsView, type IpsView } from '../interop/shl/ips-view.ts';
