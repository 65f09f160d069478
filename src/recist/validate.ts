import { Recist3dError, type ErrorContext } from '../errors.js';
import type { PointIJ, Recist } from '../types/recist.js';
import { recistCrossingMissPx, recistIntersection, segmentLengthMm } from './parse.js';
import { resolveOptions } from '../util/options.js';

export interface ValidateRecistOptions {
  /** Shortest allowed axis, in pixels; shorter axes are degenerate (real DeepLesion short axes go down to 0.58). */
  minAxisPx?: number;
  /** Largest allowed deviation from a right angle between the axes, in degrees (real DeepLesion marks reach 36). */
  maxAngleDeviationDeg?: number;
  /** How far (pixels) an end point may lie beyond the outermost pixel centre (half a pixel = the image edge). */
  marginPx?: number;
  /**
   * The axes must cross: their crossing may lie at most max(crossTolerancePx, crossToleranceFraction x the
   * axis's length) beyond either end of each axis. Of DeepLesion's 4,927 official test-split marks the defaults
   * refuse 9 (0.2 %) that the angle rule lets through, all visibly misdrawn (one axis 3.5 to 262 px off the other).
   */
  crossTolerancePx?: number;
  /** See crossTolerancePx. */
  crossToleranceFraction?: number;
}

const DEFAULTS = {
  minAxisPx: 0.5,
  maxAngleDeviationDeg: 45,
  marginPx: 0.5,
  crossTolerancePx: 2,
  crossToleranceFraction: 0.1,
} satisfies Required<ValidateRecistOptions>;

export interface RecistMeasurement {
  /** Long-axis length in mm. */
  longMm: number;
  /** Short-axis length in mm. */
  shortMm: number;
  /** Angle between the axes in mm space, 0..90 degrees (90 = perpendicular). */
  angleDeg: number;
  /** Where the axis lines cross, voxel ij. */
  centerIJ: PointIJ;
  /** True when the short axis was drawn longer than the long axis (kept as drawn). */
  shortLongerThanLong: boolean;
}

/**
 * Checks RECIST marks against a slice of size [ni, nj] with in-plane spacing [si, sj] (extra entries ignored):
 * both axes non-degenerate, every end point inside the image, axes roughly perpendicular and crossing.
 * Throws E_RECIST_DEGENERATE, E_RECIST_OUTSIDE or E_RECIST_INVALID carrying `ctx` (lesion, row, file).
 */
export function validateRecist(
  recist: Recist,
  sizeIJ: readonly number[],
  spacingMm: readonly number[],
  ctx: ErrorContext = {},
  options: ValidateRecistOptions = {},
): RecistMeasurement {
  const o = resolveOptions(DEFAULTS, options);
  const c: ErrorContext = { field: 'recist', ...ctx };
  const pts = [...recist.long, ...recist.short];
  pts.forEach((p, idx) => {
    for (let a = 0; a < 2; a++) {
      if (!(p[a] >= -o.marginPx && p[a] <= sizeIJ[a] - 1 + o.marginPx))
        throw new Recist3dError(
          'E_RECIST_OUTSIDE',
          `RECIST point ${idx + 1} (${p[0]}, ${p[1]}) lies outside the ${sizeIJ[0]}x${sizeIJ[1]} slice`,
          c,
        );
    }
  });
  const lenPx = (a: PointIJ, b: PointIJ) => Math.hypot(b[0] - a[0], b[1] - a[1]);
  for (const [name, seg] of [
    ['long', recist.long],
    ['short', recist.short],
  ] as const) {
    const l = lenPx(seg[0], seg[1]);
    if (!(l >= o.minAxisPx))
      throw new Recist3dError(
        'E_RECIST_DEGENERATE',
        `The ${name} axis is ${l.toFixed(2)} px long, shorter than ${o.minAxisPx} px`,
        c,
      );
  }
  const longMm = segmentLengthMm(recist.long[0], recist.long[1], spacingMm);
  const shortMm = segmentLengthMm(recist.short[0], recist.short[1], spacingMm);
  const u = [
    (recist.long[1][0] - recist.long[0][0]) * spacingMm[0],
    (recist.long[1][1] - recist.long[0][1]) * spacingMm[1],
  ];
  const v = [
    (recist.short[1][0] - recist.short[0][0]) * spacingMm[0],
    (recist.short[1][1] - recist.short[0][1]) * spacingMm[1],
  ];
  const cos = Math.abs(u[0] * v[0] + u[1] * v[1]) / (longMm * shortMm);
  const angleDeg = (Math.acos(Math.min(1, cos)) * 180) / Math.PI;
  if (90 - angleDeg > o.maxAngleDeviationDeg)
    throw new Recist3dError(
      'E_RECIST_INVALID',
      `The axes meet at ${angleDeg.toFixed(1)} degrees; expected roughly perpendicular (>= ${90 - o.maxAngleDeviationDeg})`,
      c,
    );
  const miss = recistCrossingMissPx(recist);
  for (const [name, other, seg] of [
    ['long', 'short', recist.long],
    ['short', 'long', recist.short],
  ] as const) {
    const allowed = Math.max(o.crossTolerancePx, o.crossToleranceFraction * lenPx(seg[0], seg[1]));
    if (miss[name] > allowed)
      throw new Recist3dError(
        'E_RECIST_INVALID',
        `The axes do not cross: the ${other} axis meets the ${name} axis's line ${miss[name].toFixed(1)} px beyond its end ` +
          `(allowed: ${allowed.toFixed(1)} px, the larger of ${o.crossTolerancePx} px and ${100 * o.crossToleranceFraction}% of the axis)`,
        c,
      );
  }
  return {
    longMm,
    shortMm,
    angleDeg,
    centerIJ: recistIntersection(recist),
    shortLongerThanLong: shortMm > longMm,
  };
}

/** Volume of the ellipsoid with axes L, W, W (mm^3): pi * L * W^2 / 6. */
export function ellipsoidVolumeMm3(longMm: number, shortMm: number): number {
  return (Math.PI * longMm * shortMm * shortMm) / 6;
}
