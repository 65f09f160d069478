/**
 * Pooled precision-recall curve of CNN probabilities: every pixel of every lesion counts once; the threshold
 * sweeps `bins` equal steps of [0, 1]. The F-measure is the best F1 over the thresholds.
 */

export interface PrCurveOptions {
  /** Number of threshold steps over [0, 1]. */
  bins?: number;
}

const DEFAULTS = { bins: 200 } satisfies Required<PrCurveOptions>;

export interface PrCurve {
  /** [recall, precision] per threshold, from the highest threshold (low recall) to the lowest. */
  points: [number, number][];
  /** Best F1 over the thresholds, and the threshold reaching it. */
  maxF1: number;
  bestThreshold: number;
  /** Pixels counted and how many of them are foreground. */
  pixels: number;
  positives: number;
}

/** Pools (probability, truth) pixel pairs over lesions into one PR curve. */
export function precisionRecallCurve(
  pairs: readonly { prob: ArrayLike<number>; truth: ArrayLike<number> }[],
  options: PrCurveOptions = {},
): PrCurve {
  const o = { ...DEFAULTS, ...options };
  const pos = new Float64Array(o.bins + 1);
  const neg = new Float64Array(o.bins + 1);
  let pixels = 0;
  for (const { prob, truth } of pairs) {
    for (let p = 0; p < prob.length; p++) {
      const b = Math.min(o.bins, Math.max(0, Math.floor(prob[p] * o.bins)));
      if (truth[p]) pos[b]++;
      else neg[b]++;
      pixels++;
    }
  }
  const positives = pos.reduce((a, b) => a + b, 0);
  const points: [number, number][] = [];
  let tp = 0;
  let fp = 0;
  let maxF1 = 0;
  let bestThreshold = 0.5;
  // threshold b / bins: a pixel is called foreground when its bin >= b
  for (let b = o.bins; b >= 1; b--) {
    tp += pos[b];
    fp += neg[b];
    if (tp + fp === 0 || positives === 0) continue;
    const precision = tp / (tp + fp);
    const recall = tp / positives;
    points.push([recall, precision]);
    const f1 = (2 * precision * recall) / (precision + recall || 1);
    if (f1 > maxF1) [maxF1, bestThreshold] = [f1, b / o.bins];
  }
  return { points, maxF1, bestThreshold, pixels, positives };
}
