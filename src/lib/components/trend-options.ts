/**
 * uPlot configuration for TrendChart, kept apart from the component so the .svelte file is
 * markup and lifecycle only. Everything here is plain data or a canvas hook; no DOM access.
 */
import uPlot from 'uplot';
import * as cd from './chart-data.ts';

// Okabe–Ito hues darkened to ≥ 5:1 on white (≥ 3:1 on near-black), each with its own dash, so
// series differ by pattern and legend label as well as by colour.
export const COLOURS = ['#0072B2', '#B34700', '#007A5A', '#A3477F', '#8A5A00'];
export const DASHES = [[], [10, 5], [2, 4], [12, 4, 2, 4], [6, 3, 2, 3, 2, 3]];
/** Legend box borders: the CSS border styles nearest each dash pattern. */
const MARKERS = ['solid', 'dashed', 'dotted', 'double', 'dashed'];
const BAND = 'rgba(0, 122, 90, 0.13)';
const BAND_EDGE = 'rgba(0, 122, 90, 0.7)';

export interface TrendPlotInput {
  data: cd.Aligned;
  labels: string[];
  unit: string;
  ref?: cd.ReferenceRange;
  width: number;
  height: number;
  /** Axis text colour: the page's text colour, so a dark theme keeps readable axes. */
  fg: string;
  /** Per series, aligned with `data`: readings outside their range get a ▲/▼ marker (chart-data.alignFlags). */
  flags?: (cd.PointFlag | null)[][];
}

export function trendOptions({ data, labels, unit, ref, width, height, fg, flags }: TrendPlotInput): uPlot.Options {
  const last = data[0].length - 1;
  // Away from the cursor uPlot's legend would show blanks: show the latest reading instead.
  const at = (col: (number | null)[], v: number | null, idx: number | null) => (idx == null ? (col[last] ?? null) : v);
  const grid = { stroke: 'rgba(128, 128, 128, 0.25)', width: 1 };
  return {
    width: Math.max(1, Math.floor(width)),
    height,
    ms: 1, // timestamps are epoch milliseconds
    cursor: { drag: { x: false, y: false } }, // no drag-zoom: on a phone a drag is a scroll
    legend: { markers: { dash: (_u, i) => MARKERS[(i - 1) % MARKERS.length] ?? 'solid' } },
    scales: {
      // From the data, not uPlot's min/max: for a lone point uPlot pads by 86400 "seconds",
      // which is 86 s once timestamps are milliseconds.
      x: { time: true, range: () => cd.xRange(data[0][0] ?? null, data[0][last] ?? null) },
      y: { range: (_u, min, max) => cd.yRange(min, max, ref) },
    },
    axes: [
      { stroke: fg, grid, ticks: grid },
      { stroke: fg, grid, ticks: grid, values: (_u, splits) => splits.map((v) => cd.formatValue(v, '')) },
    ],
    series: [
      { label: 'Date', value: (_u, t, _s, idx) => cd.formatDateTime(at(data[0], t, idx) ?? 0) },
      ...labels.map((label, i) => ({
        label,
        stroke: COLOURS[i % COLOURS.length],
        dash: DASHES[i % DASHES.length],
        width: 2,
        spanGaps: true, // nulls come from merging timelines, not from missing measurements
        points: { size: 7, width: 2 },
        value: (_u: uPlot, v: number | null, _s: number, idx: number | null) => {
          const shown = at(data[i + 1]!, v, idx);
          if (shown == null) return '–';
          const flag = flags?.[i]?.[idx ?? last];
          return `${cd.formatValue(shown, unit)}${flag ? ` ${cd.FLAG_WORD[flag]}` : ''}`;
        },
      })),
    ],
    hooks: { drawClear: [(u) => drawReference(u, ref)], draw: [(u) => drawFlags(u, flags, fg)] },
  };
}

/** Shades the reference band (or draws the single bound) under the grid and the series. */
function drawReference(u: uPlot, ref: cd.ReferenceRange | undefined) {
  const bounds = [ref?.low, ref?.high].filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (bounds.length === 0) return;
  const { ctx, bbox } = u;
  const ys = bounds.map((v) => u.valToPos(v, 'y', true));
  ctx.save();
  ctx.beginPath();
  ctx.rect(bbox.left, bbox.top, bbox.width, bbox.height);
  ctx.clip();
  if (ys.length === 2) {
    ctx.fillStyle = BAND;
    ctx.fillRect(bbox.left, Math.min(...ys), bbox.width, Math.abs(ys[0]! - ys[1]!));
  }
  ctx.strokeStyle = BAND_EDGE;
  ctx.lineWidth = uPlot.pxRatio;
  for (const y of ys) {
    ctx.beginPath();
    ctx.moveTo(bbox.left, Math.round(y) + 0.5);
    ctx.lineTo(bbox.left + bbox.width, Math.round(y) + 0.5);
    ctx.stroke();
  }
  ctx.restore();
}

/**
 * Marks each flagged reading with a triangle beside its point: ▲ above it for high, ▼ below it
 * for low, so an out-of-range reading differs by shape, not only by where it sits on the band.
 */
function drawFlags(u: uPlot, flags: (cd.PointFlag | null)[][] | undefined, fg: string) {
  if (!flags?.some((f) => f.some(Boolean))) return;
  const { ctx } = u;
  const size = 6 * uPlot.pxRatio;
  ctx.save();
  flags.forEach((series, s) => {
    const ys = u.data[s + 1];
    ctx.fillStyle = COLOURS[s % COLOURS.length] ?? fg;
    series.forEach((flag, i) => {
      const v = ys?.[i];
      if (!flag || v == null) return;
      const x = u.valToPos(u.data[0][i]!, 'x', true);
      const y = u.valToPos(v, 'y', true);
      const dir = flag === 'high' ? -1 : 1;
      const tip = y + dir * (size * 3);
      ctx.beginPath();
      ctx.moveTo(x, tip);
      ctx.lineTo(x - size, tip - dir * size * 1.6);
      ctx.lineTo(x + size, tip - dir * size * 1.6);
      ctx.closePath();
      ctx.fill();
    });
  });
  ctx.restore();
}
