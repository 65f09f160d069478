/**
 * Scores a 3D lesion mask (kept as a crop) against a ground-truth mask on the CT grid: 3D metrics, the key
 * slice in 2D, and Dice per slice offset from the key slice (paper Figure 4). The work is confined to the
 * bounding box of both masks plus a margin, so large CT volumes stay cheap.
 */
import { computeSegmentationMetrics, type SegmentationMetrics } from './segmentation.js';
import { computeConfusion, computeOverlap } from './overlap.js';
import { maskBoundingBox } from '../geometry/crop.js';
import type { Mask, Vec3 } from '../types/volume.js';
import { type CropMask } from '../geometry/crop-mask.js';

export interface LesionScores {
  metrics3d: SegmentationMetrics;
  metricsKey: SegmentationMetrics;
  /** Dice on each slice (offset from the key slice) where prediction or truth has foreground. */
  diceByOffset: Map<number, number>;
}

/** Inclusive [lo, hi] voxel box of the non-zero voxels, or undefined when there are none. */
function bbox(data: Uint8Array, size: Vec3): [Vec3, Vec3] | undefined {
  if (!data.some((v) => v !== 0)) return undefined;
  const m: Mask = {
    size,
    data,
    spacingMm: [1, 1, 1],
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    meta: {},
  };
  const { beginIJK, sizeIJK } = maskBoundingBox(m);
  return [beginIJK, beginIJK.map((b, a) => b + sizeIJK[a] - 1) as Vec3];
}

/** Scores `pred` (crop) against `truth` (full grid of `size`), with the key slice index `keySlice`. */
export function scoreLesion(
  pred: CropMask,
  truth: Uint8Array,
  size: Vec3,
  spacingMm: Vec3,
  keySlice: number,
  margin = 2,
): LesionScores {
  const boxes: [Vec3, Vec3][] = [];
  const tb = bbox(truth, size);
  if (tb) boxes.push(tb);
  const pb = bbox(pred.data, pred.size);
  if (pb)
    boxes.push([
      pb[0].map((v, a) => v + pred.start[a]) as Vec3,
      pb[1].map((v, a) => v + pred.start[a]) as Vec3,
    ]);
  // the key slice is always scored, even when both masks miss it
  const keyPoint: Vec3 = [boxes[0]?.[0][0] ?? 0, boxes[0]?.[0][1] ?? 0, keySlice];
  boxes.push([keyPoint, keyPoint]);
  const lo = [0, 1, 2].map((a) => Math.max(0, Math.min(...boxes.map((b) => b[0][a])) - margin)) as Vec3;
  const hi = [0, 1, 2].map((a) =>
    Math.min(size[a] - 1, Math.max(...boxes.map((b) => b[1][a])) + margin),
  ) as Vec3;
  const bs: Vec3 = [hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1];
  const nb = bs[0] * bs[1] * bs[2];
  const p = new Uint8Array(nb);
  const t = new Uint8Array(nb);
  const [ni, nj] = size;
  for (let k = 0; k < bs[2]; k++)
    for (let j = 0; j < bs[1]; j++)
      for (let i = 0; i < bs[0]; i++) {
        const gi = lo[0] + i;
        const gj = lo[1] + j;
        const gk = lo[2] + k;
        const q = i + bs[0] * (j + bs[1] * k);
        t[q] = truth[gi + ni * (gj + nj * gk)] ? 1 : 0;
        const ci = gi - pred.start[0];
        const cj = gj - pred.start[1];
        const ck = gk - pred.start[2];
        if (ci >= 0 && cj >= 0 && ck >= 0 && ci < pred.size[0] && cj < pred.size[1] && ck < pred.size[2]) {
          p[q] = pred.data[ci + pred.size[0] * (cj + pred.size[1] * ck)] ? 1 : 0;
        }
      }
  const metrics3d = computeSegmentationMetrics(p, t, { size: bs, spacingMm });
  const plane = bs[0] * bs[1];
  const kz = keySlice - lo[2];
  const metricsKey = computeSegmentationMetrics(
    p.subarray(kz * plane, (kz + 1) * plane),
    t.subarray(kz * plane, (kz + 1) * plane),
    {
      size: [bs[0], bs[1], 1],
      spacingMm,
    },
  );
  const diceByOffset = new Map<number, number>();
  for (let k = 0; k < bs[2]; k++) {
    const c = computeConfusion(
      p.subarray(k * plane, (k + 1) * plane),
      t.subarray(k * plane, (k + 1) * plane),
    );
    if (c.tp + c.fp + c.fn > 0) diceByOffset.set(lo[2] + k - keySlice, computeOverlap(c).dice);
  }
  return { metrics3d, metricsKey, diceByOffset };
}
