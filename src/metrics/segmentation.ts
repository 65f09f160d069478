/**
 * All per-lesion segmentation scores of one binary prediction against its truth, in 2D (size[2] == 1) or
 * 3D: Dice, precision, recall, volumetric similarity and the averaged Hausdorff distance (AVD) in mm.
 */
import type { Vec3 } from '../types/volume.js';
import { computeConfusion, computeOverlap, type Confusion, type OverlapScores } from './overlap.js';
import { squaredDistanceMm2, surfaceVoxels } from './distance.js';
import { resolveOptions } from '../util/options.js';

export interface SegmentationMetrics extends OverlapScores, Confusion {
  /**
   * Averaged Hausdorff distance in mm: max(mean d(a, B) over a in A, mean d(b, A) over b in B), with A and B
   * the point sets chosen by `avdPointSet`. 0 when both masks are empty, +Infinity when exactly one is.
   */
  avdMm: number;
}

export interface GridSpec {
  /** Grid size [ni, nj, nk]; a 2D slice has nk = 1. */
  size: Vec3;
  /** Voxel spacing in mm along i, j, k. */
  spacingMm: Vec3;
}

export interface SegmentationMetricsOptions {
  /**
   * Which points enter the AVD. 'surface': boundary voxels of each mask (face neighbours, see
   * surfaceVoxels), so AVD is the larger of the two mean directed surface distances. 'all': every
   * foreground voxel (Taha & Hanbury 2015), which gives 0 for voxels inside the other mask.
   */
  avdPointSet?: 'surface' | 'all';
}

const DEFAULTS = { avdPointSet: 'surface' } satisfies Required<SegmentationMetricsOptions>;

export function computeSegmentationMetrics(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  grid: GridSpec,
  options: SegmentationMetricsOptions = {},
): SegmentationMetrics {
  const o = resolveOptions(DEFAULTS, options);
  const n = grid.size[0] * grid.size[1] * grid.size[2];
  if (pred.length !== n || truth.length !== n) {
    throw new RangeError(
      `computeSegmentationMetrics: grid ${grid.size.join('x')} has ${n} voxels but prediction has ` +
        `${pred.length} and truth ${truth.length}`,
    );
  }
  const confusion = computeConfusion(pred, truth);
  return {
    ...confusion,
    ...computeOverlap(confusion),
    avdMm: averagedHausdorffMm(pred, truth, grid, o.avdPointSet),
  };
}

/** AVD in mm (see SegmentationMetrics.avdMm). */
export function averagedHausdorffMm(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  grid: GridSpec,
  pointSet: 'surface' | 'all' = DEFAULTS.avdPointSet,
): number {
  const pa = pointSet === 'surface' ? surfaceVoxels(a, grid.size) : a;
  const pb = pointSet === 'surface' ? surfaceVoxels(b, grid.size) : b;
  const countA = countNonZero(pa);
  const countB = countNonZero(pb);
  if (countA === 0 && countB === 0) return 0;
  if (countA === 0 || countB === 0) return Infinity;
  return Math.max(meanDirectedMm(pa, pb, grid), meanDirectedMm(pb, pa, grid));
}

/** Mean over the points of `from` of the distance (mm) to the nearest point of `to`. */
function meanDirectedMm(from: ArrayLike<number>, to: ArrayLike<number>, grid: GridSpec): number {
  const d2 = squaredDistanceMm2(to, grid.size, grid.spacingMm);
  let sum = 0;
  let count = 0;
  for (let v = 0; v < from.length; v++) {
    if (from[v] === 0) continue;
    sum += Math.sqrt(d2[v]);
    count++;
  }
  return sum / count;
}

function countNonZero(x: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) c++;
  return c;
}
