/**
 * Which relay refusals end a document's connection for good and which are retried: the one
 * place this is decided. RelayConnection stops for good on a terminal refusal (no further
 * WebSocket connects, `refusal` set) and reconnects with back-off on anything else.
 *
 * The relay refuses with a stable error code (server/errors.ts RelayRefusal) on two channels:
 * - 'auth':  the reply to the token (Hocuspocus permission-denied, server/auth.ts). The socket
 *            stays open but the document is not served.
 * - 'close': the relay closed an authenticated document connection (a CLOSE message, or the
 *            socket itself) with the code as the reason: server/revocation.ts on removal,
 *            demotion or membership expiry, server/policy.ts on a refused write, budgets.
 * A close without a stable code (network, relay restart, Hocuspocus' own reasons) is transient.
 */
import { ProtocolErrors, type ProtocolErrorCode } from '../protocol/index.ts';

export type RefusalChannel = 'auth' | 'close';
export type RefusalKind = 'terminal' | 'transient';

interface Rule {
  /** 'once': transient the first time; terminal when the attempt right after it (a fresh token) is refused the same way. */
  readonly auth: RefusalKind | 'once';
  readonly close: RefusalKind;
  /** This device's access to the document ended (the UI says so instead of "sync error"). */
  readonly endsAccess: boolean;
}

/**
 * Codes with their own rule. Why each is what it is:
 * - TOKEN_NOT_MEMBER, terminal: the relay's membership index has no role for this key (removed,
 *   never added, or a time-limited member whose time ran out; revocation.ts also uses it when a
 *   writer is demoted). Every reconnect signs a fresh token with the same key, so only an owner
 *   adding the key again changes the answer, and then the person reopens the profile.
 * - TOKEN_EXPIRED, split by channel. As a 'close' it is the membership expiry (revocation.ts
 *   closes the connection when the member's time is up): terminal, like a removal. As an 'auth'
 *   reply it is about the token itself (expiresAt passed, or a lifetime over the relay's
 *   maximum: verifyAuthToken), i.e. a stale token: `token()` signs a fresh one on every
 *   reconnect, so it is retried once. A fresh token refused the same way means this device's
 *   clock is off from the relay's by more than a token's lifetime; retrying cannot help until
 *   the clock is corrected, so that second refusal is terminal and shown. (An expired member's
 *   fresh token is refused as TOKEN_NOT_MEMBER, which is terminal.)
 * - TOKEN_MALFORMED, TOKEN_BAD_SIGNATURE, TOKEN_WRONG_DOC, terminal: the next token is built the
 *   same way from the same key for the same document name, so it fails the same way; retrying
 *   only loads the relay.
 * - RELAY_RATE_LIMITED, transient: the member's message/byte budget refills with time
 *   (server/budgets.ts); back-off is exactly what it asks for.
 * - ENVELOPE_GAP, ENVELOPE_DELETE_UNKNOWN, transient: an incremental update arrived without an
 *   earlier one of the same client (lost with a dropped connection), so it does not continue
 *   what the relay has. A reconnect's sync step 2 is computed from the relay's state vector and
 *   carries the missing part too.
 */
const RULES: Partial<Record<ProtocolErrorCode, Rule>> = {
  TOKEN_NOT_MEMBER: { auth: 'terminal', close: 'terminal', endsAccess: true },
  // An owner erased the profile (decision 0035): nothing will ever be served for it again.
  PROFILE_ERASED: { auth: 'terminal', close: 'terminal', endsAccess: true },
  TOKEN_EXPIRED: { auth: 'once', close: 'terminal', endsAccess: true },
  TOKEN_MALFORMED: { auth: 'terminal', close: 'terminal', endsAccess: false },
  TOKEN_BAD_SIGNATURE: { auth: 'terminal', close: 'terminal', endsAccess: false },
  TOKEN_WRONG_DOC: { auth: 'terminal', close: 'terminal', endsAccess: false },
  RELAY_RATE_LIMITED: { auth: 'transient', close: 'transient', endsAccess: false },
  ENVELOPE_GAP: { auth: 'transient', close: 'transient', endsAccess: false },
  ENVELOPE_DELETE_UNKNOWN: { auth: 'transient', close: 'transient', endsAccess: false },
};

/**
 * Every other protocol code is a write-policy refusal (RECORD_*, ENVELOPE_*, INVITE_*, DEVICE_*,
 * PRESENCE_TOO_LARGE...): the relay refused data this device sent. Terminal: a reconnect's sync
 * step 2 sends the relay everything it lacks, the same refused data first, and is refused again.
 */
const DATA_REFUSAL: Rule = { auth: 'terminal', close: 'terminal', endsAccess: false };

/** Not a stable code (empty, "Reset Connection", "Server closed the connection"...). */
const NOT_A_CODE: Rule = { auth: 'transient', close: 'transient', endsAccess: false };

export const isProtocolErrorCode = (reason: string): reason is ProtocolErrorCode => Object.hasOwn(ProtocolErrors, reason);

function ruleOf(reason: string | null | undefined): Rule {
  if (!reason || !isProtocolErrorCode(reason)) return NOT_A_CODE;
  return RULES[reason] ?? DATA_REFUSAL;
}

/**
 * Terminal or transient, for a refusal `reason` received on `channel`. `previous`: the refusal
 * of the attempt just before this one, if that attempt was refused too (not authenticated).
 */
export function classifyRefusal(reason: string | null | undefined, channel: RefusalChannel, previous: string | null = null): RefusalKind {
  const kind = ruleOf(reason)[channel];
  if (kind === 'once') return previous === reason ? 'terminal' : 'transient';
  return kind;
}

/** A fresh token may fix it (a stale token): the one retry goes at once, not after a back-off delay. */
export function freshTokenMayFix(reason: string | null | undefined, channel: RefusalChannel): boolean {
  return ruleOf(reason)[channel] === 'once';
}

/** The refusal (as `RelayConnection.refusal` holds it) means this device's access ended. */
export function endsAccess(refusal: string | null | undefined): boolean {
  return ruleOf(refusal).endsAccess;
}

export interface ReconnectDelays {
  readonly minMs: number;
  readonly maxMs: number;
  readonly random: () => number;
}

/** The reconnect delays a socket or a document uses: floor 1 s and cap 30 s unless set, cap never under the floor. */
export function reconnectDelays(o: { minReconnectDelayMs?: number; maxReconnectDelayMs?: number; random?: () => number }): ReconnectDelays {
  const minMs = o.minReconnectDelayMs ?? 1000;
  return { minMs, maxMs: Math.max(minMs, o.maxReconnectDelayMs ?? 30_000), random: o.random ?? Math.random };
}

/**
 * Reconnect delay after `attempt` consecutive failures (0 = the first reconnect): exponential
 * from `minMs`, capped at `maxMs`, with jitter so that clients dropped together do not come back
 * together: uniform in [base/2, base], never under `minMs`. `random` returns [0, 1).
 */
export function reconnectDelay(attempt: number, o: ReconnectDelays): number {
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.min(attempt, 30));
  return Math.max(o.minMs, Math.round(base * (0.5 + 0.5 * o.random())));
}
