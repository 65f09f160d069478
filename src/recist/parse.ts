import { Recist3dError, type ErrorContext } from '../errors.js';
import type { PointIJ, Recist } from '../types/recist.js';

/**
 * Parses RECIST marks from 8 numbers "x1,y1,x2,y2,x3,y3,x4,y4" (long-axis end points, then short-axis end
 * points; x = i, y = j, 0-based voxel coordinates), given as an array or a string separated by commas and/or
 * spaces (surrounding quotes or brackets are ignored). Throws E_RECIST_INVALID naming `ctx` otherwise.
 */
export function parseRecist(nums: number[] | string, ctx: ErrorContext = {}): Recist {
  const c: ErrorContext = { field: 'recist', ...ctx };
  let values: number[];
  if (typeof nums === 'string') {
    const body = nums.trim().replace(/^["'[(]+|["'\])]+$/g, '');
    const parts = body.split(/[\s,;]+/).filter((s) => s.length > 0);
    values = parts.map(Number);
    const bad = parts.findIndex((s, i) => !Number.isFinite(values[i]) || s.trim() === '');
    if (bad >= 0)
      throw new Recist3dError(
        'E_RECIST_INVALID',
        `Expected 8 numbers but value ${bad + 1} is "${parts[bad].slice(0, 40)}"`,
        c,
      );
  } else values = nums;
  if (values.length !== 8)
    throw new Recist3dError(
      'E_RECIST_INVALID',
      `Expected 8 numbers x1,y1,x2,y2,x3,y3,x4,y4 (long axis, then short axis) but received ${values.length}`,
      c,
    );
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0)
    throw new Recist3dError(
      'E_RECIST_INVALID',
      `Expected a finite number at position ${bad + 1}, got ${values[bad]}`,
      c,
    );
  const p = (i: number): PointIJ => [values[i], values[i + 1]];
  return { long: [p(0), p(2)], short: [p(4), p(6)] };
}

/** The 8 numbers of a Recist in manifest order. */
export function recistToNumbers(r: Recist): number[] {
  return [...r.long[0], ...r.long[1], ...r.short[0], ...r.short[1]];
}

/**
 * The marks with the longer axis (in pixels) as `long`: when the axis given second is the longer one, the two
 * are swapped and `swapped` is true (axes given in the wrong order, or a "long" axis shorter than the short
 * one). Equal lengths are kept as given.
 */
export function orderRecistAxes(r: Recist): {
  recist: Recist;
  swapped: boolean;
  longPx: number;
  shortPx: number;
} {
  const len = ([a, b]: [PointIJ, PointIJ]) => Math.hypot(b[0] - a[0], b[1] - a[1]);
  const l = len(r.long);
  const s = len(r.short);
  return s > l
    ? { recist: { long: r.short, short: r.long }, swapped: true, longPx: s, shortPx: l }
    : { recist: r, swapped: false, longPx: l, shortPx: s };
}

/**
 * How far (pixels) the crossing of the two axis lines lies beyond the ends of the long and of the short axis
 * (0 when it lies on the axis). Infinity for parallel axes.
 */
export function recistCrossingMissPx(r: Recist): { long: number; short: number } {
  const [p1, p2] = r.long;
  const [p3, p4] = r.short;
  const d1 = [p2[0] - p1[0], p2[1] - p1[1]];
  const d2 = [p4[0] - p3[0], p4[1] - p3[1]];
  const den = d1[0] * d2[1] - d1[1] * d2[0];
  if (Math.abs(den) < 1e-12) return { long: Infinity, short: Infinity };
  const e = [p3[0] - p1[0], p3[1] - p1[1]];
  const t = (e[0] * d2[1] - e[1] * d2[0]) / den; // along the long axis, 0..1 on it
  const u = (e[0] * d1[1] - e[1] * d1[0]) / den; // along the short axis
  const beyond = (x: number) => Math.max(0, -x, x - 1);
  return { long: beyond(t) * Math.hypot(d1[0], d1[1]), short: beyond(u) * Math.hypot(d2[0], d2[1]) };
}

/** Length in mm of the segment a-b on a slice with in-plane spacing [si, sj]. */
export function segmentLengthMm(a: PointIJ, b: PointIJ, spacingMm: readonly number[]): number {
  return Math.hypot((b[0] - a[0]) * spacingMm[0], (b[1] - a[1]) * spacingMm[1]);
}

/**
 * Where the long- and short-axis lines cross (voxel ij). Falls back to the short axis midpoint when the lines
 * are parallel.
 */
export function recistIntersection(r: Recist): PointIJ {
  const [p1, p2] = r.long;
  const [p3, p4] = r.short;
  const d1 = [p2[0] - p1[0], p2[1] - p1[1]];
  const d2 = [p4[0] - p3[0], p4[1] - p3[1]];
  const den = d1[0] * d2[1] - d1[1] * d2[0];
  if (Math.abs(den) < 1e-12) return [(p3[0] + p4[0]) / 2, (p3[1] + p4[1]) / 2];
  const t = ((p3[0] - p1[0]) * d2[1] - (p3[1] - p1[1]) * d2[0]) / den;
  return [p1[0] + t * d1[0], p1[1] + t * d1[1]];
}

/** Scales every RECIST end point about `center` by `factor` (keeps the long/short ratio and the centre). */
export function scaleRecist(r: Recist, center: PointIJ, factor: number): Recist {
  const s = (p: PointIJ): PointIJ => [
    center[0] + factor * (p[0] - center[0]),
    center[1] + factor * (p[1] - center[1]),
  ];
  return { long: [s(r.long[0]), s(r.long[1])], short: [s(r.short[0]), s(r.short[1])] };
}
