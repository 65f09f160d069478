/**
 * Mean ± std of per-lesion scores, overall and per category, and a fixed-width text table of them.
 * std is the population standard deviation (ddof = 0, like numpy's default). Non-finite values (the AVD of
 * a lesion with an empty prediction is +Infinity) are left out of mean and std and counted in `nonFinite`.
 */

export const METRIC_NAMES = ['dice', 'precision', 'recall', 'volumetricSimilarity', 'avdMm'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type MetricValues = Record<MetricName, number>;

export interface MetricStat {
  mean: number;
  std: number;
  /** Number of finite values that entered mean and std. */
  n: number;
  /** Number of values left out because they were NaN or infinite. */
  nonFinite: number;
}

export interface MetricsSummary {
  /** Number of lesions. */
  n: number;
  stats: Record<MetricName, MetricStat>;
}

export interface MetricsReport {
  overall: MetricsSummary;
  /** Per category, sorted by category name. */
  byCategory: Record<string, MetricsSummary>;
}

/** Collects per-lesion scores; `report()` can be called any time. */
export class MetricsAccumulator {
  private readonly rows: { category: string; values: MetricValues }[] = [];

  add(category: string, values: MetricValues): void {
    this.rows.push({ category, values });
  }

  get count(): number {
    return this.rows.length;
  }

  report(): MetricsReport {
    const cats = [...new Set(this.rows.map((r) => r.category))].sort();
    const byCategory: Record<string, MetricsSummary> = {};
    for (const c of cats)
      byCategory[c] = summarize(this.rows.filter((r) => r.category === c).map((r) => r.values));
    return { overall: summarize(this.rows.map((r) => r.values)), byCategory };
  }
}

/** Mean ± std of each metric over `values` (see the module comment for std and non-finite values). */
export function summarize(values: MetricValues[]): MetricsSummary {
  const stats = {} as Record<MetricName, MetricStat>;
  for (const name of METRIC_NAMES) stats[name] = meanStd(values.map((v) => v[name]));
  return { n: values.length, stats };
}

/** Mean and population std of the finite entries of `xs`; NaN mean/std when none is finite. */
export function meanStd(xs: number[]): MetricStat {
  const finite = xs.filter((x) => Number.isFinite(x));
  const n = finite.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0, nonFinite: xs.length };
  const mean = finite.reduce((s, x) => s + x, 0) / n;
  const variance = finite.reduce((s, x) => s + (x - mean) * (x - mean), 0) / n;
  return { mean, std: Math.sqrt(variance), n, nonFinite: xs.length - n };
}

const HEADERS: Record<MetricName, string> = {
  dice: 'Dice',
  precision: 'Precision',
  recall: 'Recall',
  volumetricSimilarity: 'VS',
  avdMm: 'AVD (mm)',
};

/** "0.83±0.11" (with a "*k" suffix when k values were non-finite and left out). */
export function formatStat(s: MetricStat, digits = 2): string {
  if (s.n === 0) return 'n/a';
  const base = `${s.mean.toFixed(digits)}±${s.std.toFixed(digits)}`;
  return s.nonFinite > 0 ? `${base} (*${s.nonFinite})` : base;
}

/** A text table: one row for all lesions, then one per category. */
export function formatMetricsTable(
  report: MetricsReport,
  metrics: readonly MetricName[] = METRIC_NAMES,
): string {
  const rows: string[][] = [['group', 'n', ...metrics.map((m) => HEADERS[m])]];
  const line = (name: string, s: MetricsSummary) => [
    name,
    String(s.n),
    ...metrics.map((m) => formatStat(s.stats[m])),
  ];
  rows.push(line('all', report.overall));
  for (const [cat, s] of Object.entries(report.byCategory)) rows.push(line(cat, s));
  return renderTable(rows);
}

/** Left-aligned first column, right-aligned others, two spaces between columns. */
export function renderTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    .join('\n');
}
