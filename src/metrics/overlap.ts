/**
 * Overlap metrics from a confusion count: Dice, precision, recall and volumetric similarity.
 *
 * Edge cases (documented in docs/table1.md and tested in metrics.test.ts):
 * - prediction and truth both empty: every overlap metric is 1 (a perfect answer to "there is nothing here").
 * - exactly one of them empty: every overlap metric is 0 (a missed or a hallucinated lesion is a failure on
 *   every score, so a method cannot buy precision by returning nothing).
 */

/** Pixel/voxel confusion counts of a binary prediction against a binary truth. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface OverlapScores {
  dice: number;
  precision: number;
  recall: number;
  /** VS = 1 - |FN - FP| / (2TP + FP + FN). */
  volumetricSimilarity: number;
}

/** Counts TP/FP/FN/TN of `pred` against `truth` (non-zero = foreground). Arrays must have equal length. */
export function computeConfusion(pred: ArrayLike<number>, truth: ArrayLike<number>): Confusion {
  if (pred.length !== truth.length) {
    throw new RangeError(
      `computeConfusion: prediction has ${pred.length} voxels but truth has ${truth.length}`,
    );
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < pred.length; i++) {
    const p = pred[i] !== 0;
    const t = truth[i] !== 0;
    if (p && t) tp++;
    else if (p) fp++;
    else if (t) fn++;
  }
  return { tp, fp, fn, tn: pred.length - tp - fp - fn };
}

/** Adds two confusion counts (for pooled, pixel-wise scores over many lesions). */
export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}

/** Dice, precision, recall and VS of one confusion count, with the edge cases above. */
export function computeOverlap(c: Confusion): OverlapScores {
  const predCount = c.tp + c.fp;
  const truthCount = c.tp + c.fn;
  if (predCount === 0 && truthCount === 0) {
    return { dice: 1, precision: 1, recall: 1, volumetricSimilarity: 1 };
  }
  if (predCount === 0 || truthCount === 0) {
    return { dice: 0, precision: 0, recall: 0, volumetricSimilarity: 0 };
  }
  const denom = 2 * c.tp + c.fp + c.fn;
  return {
    dice: (2 * c.tp) / denom,
    precision: c.tp / predCount,
    recall: c.tp / truthCount,
    volumetricSimilarity: 1 - Math.abs(c.fn - c.fp) / denom,
  };
}
