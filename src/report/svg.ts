/** Minimal, dependency-free SVG charts for reports and docs: line charts and scatter plots. */
import { escapeXml } from './escape.js';
import { resolveOptions } from '../util/options.js';

export interface Series {
  name: string;
  points: [number, number][];
  /** Draw markers only (scatter) instead of a polyline. */
  scatter?: boolean;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** Fixed axis ranges; computed from the data when absent. */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Draw the y = x line (for scatter comparisons). */
  identity?: boolean;
  /** Corner of the plot area holding the legend (precision-recall curves leave the bottom left empty). */
  legend?: 'top-left' | 'bottom-left';
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
];

const DEFAULTS = {
  title: '',
  xLabel: '',
  yLabel: '',
  width: 560,
  height: 380,
  xRange: [0, 0] as [number, number],
  yRange: [0, 0] as [number, number],
  identity: false,
  legend: 'top-left',
} satisfies Required<ChartOptions>;

function niceTicks(lo: number, hi: number, count = 5): number[] {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function range(values: number[], fixed: [number, number]): [number, number] {
  if (fixed[0] !== fixed[1]) return fixed;
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    lo -= 1;
    hi += 1;
  }
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

/** Renders series as an SVG string (lines, or markers for `scatter` series) with axes, ticks and a legend. */
export function lineChart(series: Series[], options: ChartOptions = {}): string {
  const o = resolveOptions(DEFAULTS, options);
  const m = { l: 58, r: 16, t: o.title ? 30 : 12, b: 46 };
  const pw = o.width - m.l - m.r;
  const ph = o.height - m.t - m.b;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  let [x0, x1] = range(xs, o.xRange);
  let [y0, y1] = range(ys, o.yRange);
  if (o.identity) {
    x0 = y0 = Math.min(x0, y0);
    x1 = y1 = Math.max(x1, y1);
  }
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  if (o.title)
    out.push(
      `<text x="${o.width / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(o.title)}</text>`,
    );
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${m.t}" y2="${m.t + ph}" stroke="#eee"/>`);
    out.push(`<text x="${sx(t)}" y="${m.t + ph + 14}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${sy(t)}" y2="${sy(t)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 4}" y="${sy(t) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  if (o.identity) {
    out.push(
      `<line x1="${sx(x0)}" y1="${sy(x0)}" x2="${sx(x1)}" y2="${sy(x1)}" stroke="#999" stroke-dasharray="4 3"/>`,
    );
  }
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    if (s.scatter) {
      for (const p of pts)
        out.push(
          `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3" fill="${c}" fill-opacity="0.7"/>`,
        );
    } else if (pts.length) {
      const d = pts.map((p, k) => `${k ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="1.8"/>`);
      if (pts.length < 30)
        for (const p of pts)
          out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.5" fill="${c}"/>`);
    }
    const ly = o.legend === 'top-left' ? m.t + 12 + i * 14 : m.t + ph - 8 - (series.length - 1 - i) * 14;
    out.push(`<rect x="${m.l + 8}" y="${ly - 8}" width="10" height="10" fill="${c}"/>`);
    out.push(`<text x="${m.l + 22}" y="${ly + 1}">${escapeXml(s.name)}</text>`);
  });
  if (o.xLabel)
    out.push(
      `<text x="${m.l + pw / 2}" y="${o.height - 10}" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
    );
  if (o.yLabel) {
    out.push(
      `<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
    );
  }
  out.push('</svg>');
  return out.join('\n');
}
