import { recistToRoi } from '../geometry/roi.js';
import type { Recist } from '../types/recist.js';
import type { LesionStack } from '../types/stack.js';
import type { Vec3 } from '../types/volume.js';
import { recistIntersection, scaleRecist, segmentLengthMm } from './parse.js';

/**
 * Estimated RECIST on the slice `keySlice + offsetSlices` (paper supplement): the lesion is taken as a sphere-
 * like body whose long axis L shrinks with the distance dz = offsetSlices * sliceSpacing (mm) as
 * L' = 2 * sqrt((L/2)^2 - dz^2) (Pythagorean rule). Both axes are scaled by L'/L about the axes' intersection,
 * so the long/short ratio and the intersection stay fixed. Returns undefined where the lesion vanishes
 * (|dz| >= L/2) or the target slice index would be negative.
 *
 * `spacingMm` is [si, sj, sk] (in-plane spacing for L, sk for dz). `zExtent` < 1 makes the body flatter: its
 * half-depth is zExtent * L/2 (factor sqrt(1 - (dz / (zExtent L/2))^2), vanishing at zExtent * L/2).
 */
export function estimateRecist3d(
  recist: Recist,
  keySlice: number,
  spacingMm: Vec3 | readonly number[],
  offsetSlices: number,
  zExtent = 1,
): Recist | undefined {
  if (offsetSlices === 0) return recist;
  if (keySlice + offsetSlices < 0) return undefined;
  const half = (zExtent * segmentLengthMm(recist.long[0], recist.long[1], spacingMm)) / 2;
  const dz = Math.abs(offsetSlices * spacingMm[2]);
  if (!(dz < half)) return undefined;
  const factor = Math.sqrt(half * half - dz * dz) / half;
  return scaleRecist(recist, recistIntersection(recist), factor);
}

/** The estimated RECIST of a stack's slice k in ROI coordinates, or undefined where the lesion vanishes. */
export function estimatedRoiRecist(s: LesionStack, k: number, zExtent = 1): Recist | undefined {
  const r = estimateRecist3d(
    s.record.recist,
    s.record.keySlice,
    s.image.spacingMm,
    k - s.record.keySlice,
    zExtent,
  );
  return r ? recistToRoi(s.keyRoi.geometry, r) : undefined;
}
