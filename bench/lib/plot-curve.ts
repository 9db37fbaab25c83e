/**
 * Draws S13's cost curves to bench/cost-curve.png: one column per dimension, the ratio to the
 * plaintext peer on top, absolute times below (ours solid, peer dashed), log-scale axes. The
 * charts are uPlot (the app's chart library) in a page of Debian's Chromium, screenshotted; no
 * other dependency. `node bench/lib/plot-curve.ts` redraws from bench/results/S13.json.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../tests/e2e/harness.ts';
import { BENCH_DIR, RESULTS_DIR } from './common.ts';

export interface Dimension {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly points: readonly { x: number; costs: Record<string, { ours: number; peer: number }> }[];
  /** Paths timed over every document of a point: drawn per document. */
  readonly perDoc: ReadonlySet<string>;
}

export const CURVE_PNG = join(BENCH_DIR, 'cost-curve.png');
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/** The page's data: per dimension, x values and per path the ratio, ours and peer (ms). */
function series(dims: readonly Dimension[], paths: readonly (readonly [string, string])[]) {
  return dims.map((d) => ({
    title: d.title,
    xLabel: d.xLabel,
    perDoc: d.perDoc.size > 0,
    x: d.points.map((p) => p.x),
    paths: paths.map(([id]) => {
      const per = (x: number) => (d.perDoc.has(id) ? x : 1);
      return {
        ratio: d.points.map((p) => p.costs[id]!.ours / p.costs[id]!.peer),
        ours: d.points.map((p) => p.costs[id]!.ours / per(p.x)),
        peer: d.points.map((p) => p.costs[id]!.peer / per(p.x)),
      };
    }),
  }));
}

/** Runs in the page: builds the grid of uPlot charts from `window.CURVES`. */
function draw(): void {
  type Page = { curves: ReturnType<typeof series>; names: string[]; colors: string[]; caption: string };
  const w = window as unknown as Page & { uPlot: new (o: unknown, data: unknown, el: HTMLElement) => unknown; done: boolean };
  const grid = document.getElementById('grid')!;
  const legend = document.getElementById('legend')!;
  legend.innerHTML = w.names.map((n, i) => `<span><i style="background:${w.colors[i]}"></i>${n}</span>`).join('') + '<span>solid: ours &nbsp; dashed: plaintext peer</span>';
  document.getElementById('caption')!.textContent = w.caption;
  const chart = (el: HTMLElement, title: string, xLabel: string, yLabel: string, x: number[], ys: { data: number[]; color: string; dash: boolean; label: string }[]) => {
    const box = document.createElement('div');
    el.appendChild(box);
    const opts = {
      title,
      width: 560,
      height: 330,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, distr: 3, range: (_u: unknown, min: number, max: number) => [min / 1.3, max * 1.3] }, y: { distr: 3 } },
      axes: [
        // Ticks at the measured points only; y labels at 1, 2 and 5 of each decade.
        { label: xLabel, splits: () => x, filter: (_u: unknown, v: number[]) => v, values: (_u: unknown, v: number[]) => v.map((t) => (t >= 1000 ? `${t / 1000}k` : String(t))) },
        {
          label: yLabel,
          size: 60,
          values: (_u: unknown, v: (number | null)[]) =>
            v.map((t) => (t == null || ![1, 2, 5].includes(Math.round(t / 10 ** Math.floor(Math.log10(t) + 1e-9))) ? '' : String(+t.toPrecision(2)))),
        },
      ],
      series: [{}, ...ys.map((s) => ({ label: s.label, stroke: s.color, width: 2, dash: s.dash ? [6, 4] : undefined, points: { show: true, size: 6 } }))],
    };
    new w.uPlot(opts, [x, ...ys.map((s) => s.data)], box);
  };
  const top = document.createElement('div');
  const bottom = document.createElement('div');
  top.className = bottom.className = 'row';
  grid.append(top, bottom);
  for (const d of w.curves) {
    chart(top, `${d.title}: ours / plaintext`, d.xLabel, 'ratio (x, log)', d.x, d.paths.map((p, i) => ({ data: p.ratio, color: w.colors[i]!, dash: false, label: w.names[i]! })));
    const yLabel = d.perDoc ? 'ms (log; open, sync: per document)' : 'ms (log)';
    chart(bottom, `${d.title}: time`, d.xLabel, yLabel, d.x, d.paths.flatMap((p, i) => [
      { data: p.ours, color: w.colors[i]!, dash: false, label: `${w.names[i]} ours` },
      { data: p.peer, color: w.colors[i]!, dash: true, label: `${w.names[i]} peer` },
    ]));
  }
  w.done = true;
}

const require = createRequire(import.meta.url);

export async function plotCurves(dims: readonly Dimension[], paths: readonly (readonly [string, string])[], caption = ''): Promise<string> {
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  const page = {
    curves: series(dims, paths),
    names: paths.map(([, n]) => n),
    colors: COLORS,
    caption,
  };
  const html = `<!doctype html><html><head><meta charset="utf-8"><style>${css}
body { font: 14px system-ui, sans-serif; margin: 12px; background: #fff; }
h1 { font-size: 18px; margin: 0 0 6px; } .row { display: flex; gap: 12px; margin-bottom: 10px; }
#legend span { margin-right: 18px; white-space: nowrap; } #legend i { display: inline-block; width: 22px; height: 4px; margin: 0 6px 3px 0; vertical-align: middle; }
#caption { color: #444; margin: 4px 0 10px; font-size: 12px; }
</style></head><body><div id="grid"><h1>S13 cost curve: end-to-end encrypted vault vs plaintext Yjs / Hocuspocus (same run)</h1>
<div id="legend"></div><div id="caption"></div></div>
<script>${js}</script><script>Object.assign(window, ${JSON.stringify(page)});(${draw.toString()})();</script></body></html>`;
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
  try {
    const p = await browser.newPage({ viewport: { width: 1760, height: 900 }, deviceScaleFactor: 1 });
    await p.setContent(html);
    await p.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, null, { timeout: 30_000 });
    await p.locator('#grid').screenshot({ path: CURVE_PNG });
  } finally {
    await browser.close();
  }
  return relative(BENCH_DIR, CURVE_PNG);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const r = JSON.parse(readFileSync(join(RESULTS_DIR, 'S13.json'), 'utf8')) as { data: { dims: Array<Omit<Dimension, 'perDoc'> & { perDoc: string[] }>; paths: [string, string][]; caption: string } };
  const dims = r.data.dims.map((d) => ({ ...d, perDoc: new Set(d.perDoc) }));
  console.log(await plotCurves(dims, r.data.paths, r.data.caption));
}
