/**
 * S3: where an edit's time to a peer goes. Each arrival (client process: sent, arrived) is
 * joined with the server's trace of the same edit (edit-trace.ts: received by the connection,
 * first and last forwarded frame handed to a socket), all on the machine-wide monotonic clock:
 *   up     = server received - sent        (client send, loopback, server loop until it reads)
 *   relay  = last forward - server received (the server's own work for the edit, all its peers)
 *   down   = arrived - last forward          (loopback, the measuring client's loop until it reads;
 *                                            slightly negative for peers forwarded to earlier)
 * The slow arrivals (>= the p99) are then laid against each process's stalls and collections
 * (loop-watch.ts): what was busy while the edit was in flight.
 */
import type { Arrival } from './scale-clients.ts';
import type { EditTrace } from './edit-trace.ts';
import type { LoopReport, Span } from './loop-watch.ts';
import { percentile, round } from './common.ts';

export interface Part {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface TailReport {
  /** Arrivals joined with a server trace (the rest: none found for that edit). */
  readonly joined: number;
  readonly up: Part;
  readonly relay: Part;
  readonly down: Part;
  /** The same latency measured from the server's receipt (relay + down): info, not the metric. */
  readonly fromServer: Part;
  /** Arrivals at or over the p99 of all arrivals. */
  readonly slow: {
    readonly threshold: number;
    readonly count: number;
    /** How many of them had this as their largest part. */
    readonly mostlyUp: number;
    readonly mostlyRelay: number;
    readonly mostlyDown: number;
    /** How many overlap a server stall (>= 10 ms) or collection, or one in the measuring client process. */
    readonly serverStall: number;
    /** ... a server stall in which its main thread mostly waited for a core (the scheduler, not its work). */
    readonly serverStallWaiting: number;
    readonly serverGc: number;
    readonly clientStall: number;
    readonly clientStallWaiting: number;
    readonly clientGc: number;
    readonly neither: number;
    /**
     * Median over the slow arrivals of the share of their in-flight time that the server spent in
     * stalls (all / mostly waiting for a core), and the measuring client process likewise. Long
     * windows overlap some stall almost surely; this says how much of the time the stalls were.
     */
    readonly serverStalledShare: number;
    readonly serverWaitingShare: number;
    readonly clientStalledShare: number;
  };
}

const part = (xs: number[]): Part => (xs.length === 0 ? { p50: NaN, p99: NaN, max: NaN } : { p50: round(percentile(xs, 50), 2), p99: round(percentile(xs, 99), 2), max: round(Math.max(...xs), 2) });

/** Do any of these spans (sorted by start) overlap [from, to]? */
function overlaps(spans: Span[], from: number, to: number): boolean {
  for (const [at, ms] of spans) {
    if (at > to) return false;
    if (at + ms >= from) return true;
  }
  return false;
}

/** How many ms of [from, to] these spans (sorted, not overlapping each other) cover. */
function covered(spans: Span[], from: number, to: number): number {
  let ms = 0;
  for (const [at, len] of spans) {
    if (at > to) break;
    ms += Math.max(0, Math.min(to, at + len) - Math.max(from, at));
  }
  return ms;
}

const median = (xs: number[]): number => (xs.length === 0 ? NaN : round(percentile(xs, 50), 2));

/** A stall in which the main thread waited for a core at least half the time. */
export const waiting = (s: Span): boolean => (s[3] ?? 0) >= s[1] / 2;

export function tailReport(arrivals: Arrival[], server: { loop: LoopReport; edits: Record<string, EditTrace[]> }, clients: LoopReport[], nameOf: (doc: number) => string): TailReport {
  const workers = clients.length;
  const sortSpans = (s: Span[]) => [...s].sort((a, b) => a[0] - b[0]);
  const sStalls = sortSpans(server.loop.stalls);
  const sGc = sortSpans(server.loop.gc.pauses);
  const cStalls = clients.map((c) => sortSpans(c.stalls));
  const cGc = clients.map((c) => sortSpans(c.gc.pauses));
  const up: number[] = [];
  const relay: number[] = [];
  const down: number[] = [];
  const fromServer: number[] = [];
  const rows: { lat: number; up: number; relay: number; down: number; sent: number; arrived: number; worker: number }[] = [];
  for (const [doc, k, sent, arrived] of arrivals) {
    const e = server.edits[nameOf(doc)]?.[k];
    if (!e || e[3] === 0) continue;
    const row = { lat: arrived - sent, up: e[0] - sent, relay: e[2] - e[0], down: arrived - e[2], sent, arrived, worker: doc % workers };
    rows.push(row);
    up.push(row.up);
    relay.push(row.relay);
    down.push(row.down);
    fromServer.push(arrived - e[0]);
  }
  const threshold = percentile(arrivals.map((a) => a[3] - a[2]), 99);
  const slow = rows.filter((r) => r.lat >= threshold);
  const count = (f: (r: (typeof slow)[number]) => boolean) => slow.filter(f).length;
  const inServerStall = (r: (typeof slow)[number]) => overlaps(sStalls, r.sent, r.arrived);
  const inServerGc = (r: (typeof slow)[number]) => overlaps(sGc, r.sent, r.arrived);
  const inClientStall = (r: (typeof slow)[number]) => overlaps(cStalls[r.worker]!, r.sent, r.arrived);
  const inClientGc = (r: (typeof slow)[number]) => overlaps(cGc[r.worker]!, r.sent, r.arrived);
  const sWaits = sStalls.filter(waiting);
  const cWaits = cStalls.map((c) => c.filter(waiting));
  return {
    joined: rows.length,
    up: part(up),
    relay: part(relay),
    down: part(down),
    fromServer: part(fromServer),
    slow: {
      threshold: round(threshold, 2),
      count: slow.length,
      mostlyUp: count((r) => r.up >= r.relay && r.up >= r.down),
      mostlyRelay: count((r) => r.relay > r.up && r.relay >= r.down),
      mostlyDown: count((r) => r.down > r.up && r.down > r.relay),
      serverStall: count(inServerStall),
      serverStallWaiting: count((r) => overlaps(sWaits, r.sent, r.arrived)),
      serverGc: count(inServerGc),
      clientStall: count(inClientStall),
      clientStallWaiting: count((r) => overlaps(cWaits[r.worker]!, r.sent, r.arrived)),
      clientGc: count(inClientGc),
      neither: count((r) => !inServerStall(r) && !inServerGc(r) && !inClientStall(r) && !inClientGc(r)),
      serverStalledShare: median(slow.map((r) => covered(sStalls, r.sent, r.arrived) / r.lat)),
      serverWaitingShare: median(slow.map((r) => covered(sWaits, r.sent, r.arrived) / r.lat)),
      clientStalledShare: median(slow.map((r) => covered(cStalls[r.worker]!, r.sent, r.arrived) / r.lat)),
    },
  };
}

/** One line per process: CPU, loop delay, collections, stalls. */
export function loopLine(who: string, l: LoopReport): string {
  const longest = Math.max(0, ...l.stalls.map((s) => s[1]));
  const w = l.stalls.filter(waiting);
  return `${who}: CPU ${round(l.cpuShare, 2)} core, waited for a core ${round(l.runQueueMs / 1000, 1)} s of ${round(l.wallMs / 1000, 0)} s, loop delay p50 ${round(l.delay.p50, 2)} / p99 ${round(l.delay.p99, 2)} / max ${round(l.delay.max, 1)} ms, GC ${l.gc.count} x (${round(l.gc.totalMs, 0)} ms, longest ${round(l.gc.maxMs, 1)} ms), stalls >= 10 ms: ${l.stalls.length} (longest ${round(longest, 1)} ms; ${w.length} mostly waiting for a core, longest ${round(Math.max(0, ...w.map((s) => s[1])), 1)} ms); threads (CPU / waited s): ${l.threads.slice(0, 5).map((t) => `${t.name} ${round(t.onCpuMs / 1000, 1)}/${round(t.waitMs / 1000, 1)}`).join(', ')}`;
}
