import { Recist3dError, type ErrorContext } from '../errors.js';
import type { PointIJ, Recist } from '../types/recist.js';
import type { Mask } from '../types/volume.js';
import { createRng } from '../util/random.js';
import { recistIntersection, scaleRecist, segmentLengthMm } from './parse.js';
import { resolveOptions } from '../util/options.js';

export interface RecistFromMaskOptions {
  /** Measure on this slice instead of the slice of largest area. */
  keySlice?: number;
  /** Relative length noise: each axis is scaled by 1 + U(-noise, noise) about the axes' crossing (0..0.5). */
  noise?: number;
  /** Seed for the noise. */
  seed?: number | string;
  /** Lesion id etc. for error messages. */
  context?: ErrorContext;
}

const DEFAULTS = {
  keySlice: -1,
  noise: 0,
  seed: 0,
  context: {},
} satisfies Required<RecistFromMaskOptions>;

export interface RecistFromMaskResult {
  /** 0-based slice index k of the measurement. */
  keySlice: number;
  recist: Recist;
  /** Axis lengths in mm of the returned (possibly noisy) RECIST. */
  longMm: number;
  shortMm: number;
  /** Axis lengths in mm before noise. */
  exactLongMm: number;
  exactShortMm: number;
  /** Lesion pixels on the key slice. */
  areaPx: number;
}

/**
 * RECIST as a reader would measure it on a binary mask: on the axial slice of largest lesion area (ties: the
 * one nearest the lesion's centre), the long axis is the largest distance (mm) between two boundary pixel
 * centres; the short axis is the longest chord perpendicular to it (pixel centres, 1-pixel-wide bins along
 * the long axis). End points are in voxel coordinates (x = i, y = j). Optional seeded length noise imitates
 * reader variability. Throws E_MASK_EMPTY for an empty mask and E_RECIST_DEGENERATE when the slice has a
 * one-pixel-wide lesion (no measurable short axis).
 */
export function recistFromMask(mask: Mask, options: RecistFromMaskOptions = {}): RecistFromMaskResult {
  const o = resolveOptions(DEFAULTS, options);
  const ctx = o.context;
  const [ni, nj, nk] = mask.size;
  const [si, sj] = mask.spacingMm;
  const plane = ni * nj;
  if (!(o.noise >= 0 && o.noise <= 0.5))
    throw new Recist3dError('E_CONFIG', `noise must be in [0, 0.5], got ${o.noise}`, {
      ...ctx,
      field: 'noise',
    });

  let k0 = o.keySlice;
  if (k0 < 0) {
    const area = new Float64Array(nk);
    let total = 0;
    let kSum = 0;
    for (let k = 0; k < nk; k++) {
      let a = 0;
      for (let x = k * plane, e = x + plane; x < e; x++) if (mask.data[x]) a++;
      area[k] = a;
      total += a;
      kSum += a * k;
    }
    if (total === 0) throw new Recist3dError('E_MASK_EMPTY', 'The mask has no lesion voxels', ctx);
    const kMean = kSum / total;
    let best = -1;
    for (let k = 0; k < nk; k++)
      if (
        best < 0 ||
        area[k] > area[best] ||
        (area[k] === area[best] && Math.abs(k - kMean) < Math.abs(best - kMean))
      )
        best = k;
    k0 = best;
  }
  const off = k0 * plane;
  const at = (i: number, j: number) =>
    i >= 0 && j >= 0 && i < ni && j < nj && mask.data[off + i + ni * j] !== 0;

  const fg: PointIJ[] = [];
  const boundary: PointIJ[] = [];
  for (let j = 0; j < nj; j++)
    for (let i = 0; i < ni; i++) {
      if (!at(i, j)) continue;
      fg.push([i, j]);
      if (!at(i - 1, j) || !at(i + 1, j) || !at(i, j - 1) || !at(i, j + 1)) boundary.push([i, j]);
    }
  if (fg.length === 0)
    throw new Recist3dError('E_MASK_EMPTY', `Slice ${k0} of the mask has no lesion pixels`, ctx);

  // Long axis: diameter of the boundary's convex hull, in mm.
  const hull = convexHull(boundary.map(([i, j]) => [i * si, j * sj] as PointIJ));
  let bestD = -1;
  let A: PointIJ = hull[0];
  let B: PointIJ = hull[0];
  for (let a = 0; a < hull.length; a++)
    for (let b = a + 1; b < hull.length; b++) {
      const d = (hull[a][0] - hull[b][0]) ** 2 + (hull[a][1] - hull[b][1]) ** 2;
      if (d > bestD) {
        bestD = d;
        A = hull[a];
        B = hull[b];
      }
    }
  const longLen = Math.sqrt(bestD);
  if (!(longLen > 0))
    throw new Recist3dError('E_RECIST_DEGENERATE', `The lesion on slice ${k0} is a single pixel`, ctx);
  const u = [(B[0] - A[0]) / longLen, (B[1] - A[1]) / longLen];
  const v = [-u[1], u[0]];

  // Short axis: longest perpendicular chord, by bins of one pixel along the long axis.
  const w = Math.min(si, sj);
  const nb = Math.floor(longLen / w) + 3;
  const sMin = new Float64Array(nb).fill(Infinity);
  const sMax = new Float64Array(nb).fill(-Infinity);
  for (const [i, j] of fg) {
    const px = i * si - A[0];
    const py = j * sj - A[1];
    const t = px * u[0] + py * u[1];
    const s = px * v[0] + py * v[1];
    const b = Math.min(nb - 1, Math.max(0, Math.round(t / w) + 1));
    if (s < sMin[b]) sMin[b] = s;
    if (s > sMax[b]) sMax[b] = s;
  }
  let bestB = -1;
  for (let b = 0; b < nb; b++)
    if (sMax[b] > sMin[b] && (bestB < 0 || sMax[b] - sMin[b] > sMax[bestB] - sMin[bestB])) bestB = b;
  if (bestB < 0)
    throw new Recist3dError(
      'E_RECIST_DEGENERATE',
      `The lesion on slice ${k0} is one pixel wide (no short axis)`,
      ctx,
    );
  const tc = (bestB - 1) * w;
  const toIJ = (t: number, s: number): PointIJ => [
    (A[0] + t * u[0] + s * v[0]) / si,
    (A[1] + t * u[1] + s * v[1]) / sj,
  ];
  const exact: Recist = {
    long: [
      [A[0] / si, A[1] / sj],
      [B[0] / si, B[1] / sj],
    ],
    short: [toIJ(tc, sMin[bestB]), toIJ(tc, sMax[bestB])],
  };
  const exactLongMm = longLen;
  const exactShortMm = sMax[bestB] - sMin[bestB];

  let recist = exact;
  if (o.noise > 0) {
    const rng = createRng(o.seed);
    const c = recistIntersection(exact);
    const fl = 1 + rng.uniform(-o.noise, o.noise);
    const fs = 1 + rng.uniform(-o.noise, o.noise);
    const lo = scaleRecist(exact, c, fl);
    const sh = scaleRecist(exact, c, fs);
    recist = { long: lo.long, short: sh.short };
  }
  let longMm = segmentLengthMm(recist.long[0], recist.long[1], mask.spacingMm);
  let shortMm = segmentLengthMm(recist.short[0], recist.short[1], mask.spacingMm);
  if (shortMm > longMm) {
    recist = { long: recist.short, short: recist.long };
    [longMm, shortMm] = [shortMm, longMm];
  }
  return { keySlice: k0, recist, longMm, shortMm, exactLongMm, exactShortMm, areaPx: fg.length };
}

/** Andrew's monotone chain; returns the hull vertices (all points when fewer than 3). */
function convexHull(points: PointIJ[]): PointIJ[] {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o: PointIJ, a: PointIJ, b: PointIJ) =>
    (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower: PointIJ[] = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: PointIJ[] = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i];
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  const hull = lower.slice(0, -1).concat(upper.slice(0, -1));
  return hull.length ? hull : p;
}
