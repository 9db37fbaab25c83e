/**
 * The relay's log: one JSON object per line (`{"t":"2026-12-02T09:00:00.000Z","level":"warn",
 * "event":"refused","code":"TOKEN_EXPIRED"}`), so a log shipper parses it without patterns.
 * Fields are our own event names, stable codes and numbers only: never a token, a document
 * name, a key, a path or anything a client sent, so no line can carry health data.
 */
export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean>>;
export type RelayLogger = (level: LogLevel, event: string, fields?: LogFields) => void;

export const silentLogger: RelayLogger = () => undefined;

export function jsonLogger(sink: (line: string) => void = (line) => process.stderr.write(line + '\n'), now: () => number = Date.now): RelayLogger {
  return (level, event, fields = {}) => sink(JSON.stringify({ t: new Date(now()).toISOString(), level, event, ...fields }));
}

/**
 * Rate-limited logging of refusals. Anyone on the network can fail authentication as often as
 * they like, and Hocuspocus logs every failed hook (`[onAuthenticate] <message>`); a line per
 * attempt would let strangers grow the log without bound. Here each refusal reason is logged
 * at most once per interval, with the number suppressed since the last line. A line holds the
 * stable code only: never a token, a document name or anything else the stranger sent.
 */
import type { Extension } from '@hocuspocus/server';

export interface RefusalLog {
  /** Counts one refusal; logs it if its reason has not been logged this interval. */
  (reason: string): void;
  /** Logs the suppressed counts not yet reported (shutdown). */
  flush(): void;
}

export interface RefusalLogOptions {
  readonly now: () => number;
  readonly intervalMs: number;
  readonly logger: RelayLogger;
  /** Called for every refusal, logged or not (the metrics count them all). */
  readonly counted?: (reason: string) => void;
}

/** Reasons are our own stable codes; anything else is logged as OTHER, never verbatim. */
const reasonOf = (reason: unknown) => (typeof reason === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(reason) ? reason : 'OTHER');

export function refusalLog(o: RefusalLogOptions): RefusalLog {
  const seen = new Map<string, { since: number; suppressed: number }>();
  const line = (code: string, suppressed: number, since: number, now: number) =>
    o.logger('warn', 'refused', suppressed > 0 ? { code, suppressed, seconds: Math.round((now - since) / 1000) } : { code });
  const log = ((raw: string) => {
    const reason = reasonOf(raw);
    o.counted?.(reason);
    const now = o.now();
    const entry = seen.get(reason);
    if (entry && now - entry.since < o.intervalMs && now >= entry.since) {
      entry.suppressed++;
      return;
    }
    line(reason, entry?.suppressed ?? 0, entry?.since ?? now, now);
    seen.set(reason, { since: now, suppressed: 0 });
  }) as RefusalLog;
  log.flush = () => {
    const now = o.now();
    for (const [reason, entry] of seen) if (entry.suppressed > 0) line(reason, entry.suppressed, entry.since, now);
    seen.clear();
  };
  return log;
}

/**
 * The extension with its refusals (thrown objects carrying a stable `reason`, e.g. `RelayRefusal.close`)
 * counted by `log` instead of logged by Hocuspocus: they are rethrown with the same code and
 * reason but an empty message, which Hocuspocus passes on to the client without logging.
 */
export function logRefusalsOf(extension: Extension, log: RefusalLog): Extension {
  const wrapped: Record<string, unknown> = { ...extension };
  for (const [name, hook] of Object.entries(extension)) {
    if (typeof hook !== 'function') continue;
    wrapped[name] = async (payload: unknown) => {
      try {
        return await (hook as (p: unknown) => unknown).call(extension, payload);
      } catch (error) {
        const reason = (error as { reason?: unknown } | null)?.reason;
        if (typeof reason !== 'string') throw error;
        log(reason);
        throw Object.assign(new Error(''), { code: (error as { code?: unknown }).code, reason });
      }
    };
  }
  return wrapped as Extension;
}

/**
 * Hocuspocus and its Redis extension write to `console.error`/`console.warn` on their own, in
 * free text that names the document (`closing connection … (while handling <document>) because of
 * exception`, once per refused message, so any member can write it at will; `… unauthenticated
 * message queue size limit exceeded for "<document>"`, any stranger), with stack traces. That
 * broke the relay's one rule for its log (JSON lines of codes, never a document name) and let a
 * client grow the log without bound. The relay process (server/main.ts) routes those calls here:
 * a refusal the relay already counted and logged (an error carrying one of our stable codes as
 * `reason`) is dropped; anything else becomes one `library_console` event naming only its kind,
 * rate-limited per kind like refusals. No text of the library's line is kept.
 */
export function routeLibraryConsole(logger: RelayLogger, now: () => number, intervalMs = 60_000): { error: (...args: unknown[]) => void; warn: (...args: unknown[]) => void } {
  const limited = refusalLog({ now, intervalMs, logger: (level, _event, fields) => logger(level, 'library_console', fields) });
  const route = (...args: unknown[]) => {
    const text = typeof args[0] === 'string' ? args[0] : '';
    const reason = args.map((a) => (a as { reason?: unknown } | null)?.reason).find((r) => typeof r === 'string');
    if (text.startsWith('closing connection ') && reason !== undefined && reasonOf(reason) !== 'OTHER') return; // counted by the refusal log
    limited(
      text.startsWith('closing connection ') ? 'CONNECTION_CLOSED_ON_ERROR'
      : /unauthenticated/.test(text) ? 'UNAUTHENTICATED_LIMIT'
      : /^\[\w+\]/.test(text) ? 'HOOK_FAILED'
      : /^Redis:/.test(text) ? 'REDIS_FAILED'
      : 'UNEXPECTED',
    );
  };
  return { error: route, warn: route };
}
