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
  readonly sink?: (line: string) => void;
}

/** Reasons are our own stable codes; anything else is logged as OTHER, never verbatim. */
const reasonOf = (reason: unknown) => (typeof reason === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(reason) ? reason : 'OTHER');

export function refusalLog(o: RefusalLogOptions): RefusalLog {
  const sink = o.sink ?? ((line: string) => console.warn(line));
  const seen = new Map<string, { since: number; suppressed: number }>();
  const line = (reason: string, suppressed: number, since: number, now: number) =>
    `relay: refused ${reason}` + (suppressed > 0 ? ` (${suppressed} more not logged in the last ${Math.round((now - since) / 1000)} s)` : '');
  const log = ((raw: string) => {
    const reason = reasonOf(raw);
    const now = o.now();
    const entry = seen.get(reason);
    if (entry && now - entry.since < o.intervalMs && now >= entry.since) {
      entry.suppressed++;
      return;
    }
    sink(line(reason, entry?.suppressed ?? 0, entry?.since ?? now, now));
    seen.set(reason, { since: now, suppressed: 0 });
  }) as RefusalLog;
  log.flush = () => {
    const now = o.now();
    for (const [reason, entry] of seen) if (entry.suppressed > 0) sink(line(reason, entry.suppressed, entry.since, now));
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
