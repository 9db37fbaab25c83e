/**
 * bench/lib/s3-tail.ts: each arrival is joined with the server's trace of the same edit (by
 * document name and edit index) and split into up / relay / down; the slow arrivals are laid
 * against the processes' stalls. Synthetic times, so every figure is known in advance.
 */
import { describe, expect, it } from 'vitest';
import { tailReport } from '../../bench/lib/s3-tail.ts';
import type { LoopReport, Span } from '../../bench/lib/loop-watch.ts';

const loop = (stalls: Span[] = [], pauses: Span[] = []): LoopReport => ({
  wallMs: 1000,
  cpuShare: 0,
  delay: { p50: 0, p99: 0, max: 0, mean: 0 },
  gc: { count: pauses.length, totalMs: 0, maxMs: 0, pauses },
  stalls,
  runQueueMs: 0,
  onCpuMs: 0,
  threads: [],
});

describe('S3 tail report', () => {
  // 49 fast arrivals on doc 0 (edit k sent at 1000k, 1 ms each way), one slow one on doc 1: of
  // 50, the nearest-rank p99 is the slowest alone.
  const arrivals: [number, number, number, number][] = [];
  const edits: Record<string, [number, number, number, number][]> = { d0: [], d1: [] };
  for (let k = 0; k < 49; k++) {
    const sent = 1000 * k;
    edits.d0!.push([sent + 1, sent + 1.5, sent + 2, 1]);
    arrivals.push([0, k, sent, sent + 3]);
  }
  // The slow one: the server read it 200 ms late (up), forwarded at once, arrival 1 ms later.
  edits.d1!.push([50_200, 50_200.5, 50_201, 1]);
  arrivals.push([1, 0, 50_000, 50_202]);
  // The server stalled 190 ms of that, 150 ms of it waiting for a core; client 1's process never.
  const server = { loop: loop([[50_005, 150, 10, 140], [50_160, 40, 35, 2]]), edits };
  const report = tailReport(arrivals, server, [loop(), loop()], (d) => `d${d}`);

  it('joins every arrival with its edit and splits it into parts', () => {
    expect(report.joined).toBe(50);
    expect(report.up.p50).toBe(1);
    expect(report.up.max).toBe(200);
    expect(report.relay.p50).toBe(1);
    expect(report.down.p50).toBe(1);
    expect(report.fromServer.max).toBe(2);
  });

  it('lays the slow arrival against the stalls it was in flight during', () => {
    expect(report.slow.count).toBe(1);
    expect(report.slow.mostlyUp).toBe(1);
    expect(report.slow.serverStall).toBe(1);
    expect(report.slow.serverStallWaiting).toBe(1);
    expect(report.slow.clientStall).toBe(0);
    expect(report.slow.serverStalledShare).toBeCloseTo(190 / 202, 2);
    expect(report.slow.serverWaitingShare).toBeCloseTo(150 / 202, 2);
    expect(report.slow.clientStalledShare).toBe(0);
  });

  it('leaves out arrivals whose edit the server did not trace', () => {
    const partial = tailReport(arrivals, { ...server, edits: { d0: edits.d0! } }, [loop(), loop()], (d) => `d${d}`);
    expect(partial.joined).toBe(49);
  });
});
