/**
 * Draws lesion sizes, spacings and categories from the empirical DeepLesion tables in
 * deeplesion-stats.ts (inverse CDF between quantiles, linear interpolation).
 */
import type { LesionCategory } from '../types/recist.js';
import type { Rng } from '../util/random.js';
import {
  CATEGORY_STATS,
  IN_PLANE_SPACING_MM,
  QUANTILE_LEVELS,
  SLICE_SPACING_COUNTS,
} from './deeplesion-stats.js';

export type PhantomCategory = Exclude<LesionCategory, 'unknown'>;

/** The 8 DeepLesion categories in DeepLesion's order (type 1..8). */
export const PHANTOM_CATEGORIES = Object.keys(CATEGORY_STATS) as PhantomCategory[];

/** Inverse CDF of a distribution given by its values at QUANTILE_LEVELS, at probability u in [0, 1]. */
export function quantileAt(values: readonly number[], u: number): number {
  const p = QUANTILE_LEVELS;
  if (u <= p[0]) return values[0];
  for (let t = 1; t < p.length; t++) {
    if (u <= p[t]) return values[t - 1] + ((u - p[t - 1]) / (p[t] - p[t - 1])) * (values[t] - values[t - 1]);
  }
  return values[values.length - 1];
}

/** Long axis (mm) and short/long ratio drawn from the category's table, long clamped to [min, max]. */
export function sampleSize(
  rng: Rng,
  category: PhantomCategory,
  minLongMm: number,
  maxLongMm: number,
): { longMm: number; shortOverLong: number } {
  const s = CATEGORY_STATS[category];
  // Draw u within the quantile range that maps into [min, max] so the clamp does not pile up mass.
  const lo = cdfAt(s.longMm, minLongMm);
  const hi = cdfAt(s.longMm, maxLongMm);
  const longMm = quantileAt(s.longMm, rng.uniform(lo, hi));
  const shortOverLong = Math.max(0.3, quantileAt(s.shortOverLong, rng.next()));
  return { longMm: Math.min(maxLongMm, Math.max(minLongMm, longMm)), shortOverLong };
}

/** CDF (inverse of quantileAt) of a quantile table at x. */
function cdfAt(values: readonly number[], x: number): number {
  const p = QUANTILE_LEVELS;
  if (x <= values[0]) return 0;
  for (let t = 1; t < values.length; t++) {
    if (x <= values[t]) {
      const span = values[t] - values[t - 1];
      return p[t - 1] + (span > 0 ? (x - values[t - 1]) / span : 0) * (p[t] - p[t - 1]);
    }
  }
  return 1;
}

/** In-plane pixel spacing (mm), from the central 5..95 % of DeepLesion's spacings. */
export function sampleInPlaneSpacing(rng: Rng): number {
  return +quantileAt(IN_PLANE_SPACING_MM, rng.uniform(0.05, 0.95)).toFixed(4);
}

/** Slice spacing (mm) drawn with DeepLesion's frequencies (5 mm and 1 mm dominate). */
export function sampleSliceSpacing(rng: Rng): number {
  const total = SLICE_SPACING_COUNTS.reduce((s, [, c]) => s + c, 0);
  let u = rng.next() * total;
  for (const [mm, c] of SLICE_SPACING_COUNTS) {
    if ((u -= c) < 0) return mm;
  }
  return SLICE_SPACING_COUNTS[SLICE_SPACING_COUNTS.length - 1][0];
}

/**
 * `n` categories with DeepLesion's frequencies (largest remainder), every category at least once
 * when n >= 8, in a seeded random order.
 */
export function allocateCategories(rng: Rng, n: number): PhantomCategory[] {
  const cats = PHANTOM_CATEGORIES;
  const total = cats.reduce((s, c) => s + CATEGORY_STATS[c].count, 0);
  const floorEach = n >= cats.length ? 1 : 0;
  const rest = n - floorEach * cats.length;
  const exact = cats.map((c) => (rest * CATEGORY_STATS[c].count) / total);
  const counts = exact.map((e) => Math.floor(e) + floorEach);
  let left = n - counts.reduce((s, c) => s + c, 0);
  const order = cats
    .map((_, t) => t)
    .sort((x, y) => exact[y] - Math.floor(exact[y]) - (exact[x] - Math.floor(exact[x])));
  for (let t = 0; left > 0; t = (t + 1) % order.length, left--) counts[order[t]]++;
  const out: PhantomCategory[] = [];
  cats.forEach((c, t) => {
    for (let q = 0; q < counts[t]; q++) out.push(c);
  });
  shuffle(rng, out);
  return out;
}

/** Fisher-Yates shuffle in place. */
export function shuffle<T>(rng: Rng, items: T[]): T[] {
  for (let t = items.length - 1; t > 0; t--) {
    const u = rng.int(t + 1);
    [items[t], items[u]] = [items[u], items[t]];
  }
  return items;
}
