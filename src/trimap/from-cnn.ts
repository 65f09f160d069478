/**
 * Trimap from the CNN output (paper section 3.3): T = trimap(Y_hat, R_hat, R).
 *
 * 1. Y_hat is binarised with the highest threshold (from `startThreshold` down in `thresholdStep`s) whose
 *    foreground covers at least `minAxisCoverage` of the estimated RECIST axes' pixels.
 * 2. The components of that foreground touching the axes form the CNN region. Its confident part
 *    (probability >= `fgProbability`) together with the axes is FG (docs/experiments/history.md: the whole
 *    region as FG locked in over-segmentation; the confident part did better).
 * 3. Confident background (probability <= `bgProbability`) that is not part of the CNN region and whose
 *    component does not touch the axes is BG; so is the 2D RECIST trimap's outer BG ring outside the region.
 * 4. The rest is uncertain: the CNN region is PFG, other pixels are PFG when closer to FG than to BG, else PBG.
 *
 * When the CNN region is empty ("the CNN finds nothing"), the trimap is the 2D RECIST trimap of R_hat alone.
 */
import { keepComponentsTouching } from '../geometry/connected.js';
import type { Recist } from '../types/recist.js';
import { TRIMAP } from './labels.js';
import { dilateBox, distanceToPx, rasterizeAxes } from './raster.js';
import { trimapFromRecist, type RecistTrimapOptions } from './recist-trimap.js';
import { resolveOptions } from '../util/options.js';

export interface CnnTrimapOptions {
  /** Share of the axes' pixels the binarised CNN output must cover. */
  minAxisCoverage?: number;
  /** First binarisation threshold tried. */
  startThreshold?: number;
  /** Threshold decrement. */
  thresholdStep?: number;
  /** Lowest threshold tried before declaring that the CNN found nothing. */
  minThreshold?: number;
  /** Probability at or above which CNN-region pixels are FG. */
  fgProbability?: number;
  /** Probability at or below which pixels may be BG. */
  bgProbability?: number;
  /** Options of the RECIST trimap (fallback and BG ring). */
  recistTrimap?: RecistTrimapOptions;
}

export const CNN_TRIMAP_DEFAULTS = {
  minAxisCoverage: 0.5,
  startThreshold: 0.5,
  thresholdStep: 0.05,
  minThreshold: 0.05,
  fgProbability: 0.9,
  bgProbability: 0.1,
  recistTrimap: {},
} satisfies Required<CnnTrimapOptions>;

export interface CnnTrimap {
  trimap: Uint8Array;
  /** False when the CNN found nothing on the axes and the trimap comes from R_hat alone. */
  cnnFound: boolean;
  /** The CNN region (binarised output touching the axes); empty when `cnnFound` is false. */
  region: Uint8Array;
  /** The binarisation threshold used. */
  threshold: number;
  /** The rasterised axes of R_hat. */
  axes: Uint8Array;
}

/** Builds the trimap of an n x n ROI from CNN probabilities and the (estimated) RECIST in ROI coordinates. */
export function trimapFromCnn(
  prob: Float32Array,
  n: number,
  recistHat: Recist,
  options: CnnTrimapOptions = {},
): CnnTrimap {
  const o = resolveOptions(CNN_TRIMAP_DEFAULTS, options);
  const axes = rasterizeAxes(recistHat, n);
  const axisCount = axes.reduce((a, b) => a + b, 0);
  const recistTrimap = trimapFromRecist(recistHat, n, o.recistTrimap);
  let threshold = o.startThreshold;
  const binary = new Uint8Array(n * n);
  for (; threshold >= o.minThreshold - 1e-9; threshold -= o.thresholdStep) {
    let covered = 0;
    for (let p = 0; p < n * n; p++) {
      binary[p] = prob[p] >= threshold ? 1 : 0;
      if (binary[p] && axes[p]) covered++;
    }
    if (axisCount > 0 && covered >= o.minAxisCoverage * axisCount) break;
  }
  const region =
    threshold >= o.minThreshold - 1e-9 ? keepComponentsTouching(binary, axes, [n, n]) : new Uint8Array(n * n);
  let regionCount = 0;
  for (let p = 0; p < n * n; p++) regionCount += region[p];
  if (regionCount === 0) {
    return { trimap: recistTrimap, cnnFound: false, region, threshold, axes };
  }
  // confident background components that do not touch the axes
  const lowProb = new Uint8Array(n * n);
  for (let p = 0; p < n * n; p++) lowProb[p] = prob[p] <= o.bgProbability && !region[p] ? 1 : 0;
  const lowTouching = keepComponentsTouching(lowProb, axes, [n, n]);
  const fg = new Uint8Array(n * n);
  const bg = new Uint8Array(n * n);
  for (let p = 0; p < n * n; p++) {
    if (axes[p] || (region[p] && prob[p] >= o.fgProbability)) fg[p] = 1;
    else if ((lowProb[p] && !lowTouching[p]) || (recistTrimap[p] === TRIMAP.BG && !region[p])) bg[p] = 1;
  }
  const dFg = distanceToPx(fg, n);
  const dBg = distanceToPx(bg, n);
  const trimap = new Uint8Array(n * n);
  for (let p = 0; p < n * n; p++) {
    if (fg[p]) trimap[p] = TRIMAP.FG;
    else if (bg[p]) trimap[p] = TRIMAP.BG;
    else if (region[p] || dFg[p] <= dBg[p]) trimap[p] = TRIMAP.PFG;
    else trimap[p] = TRIMAP.PBG;
  }
  return { trimap, cnnFound: true, region, threshold, axes };
}

/**
 * Training labels when GrabCut on a CNN trimap returns no or very little foreground (paper 3.3): FG = the CNN
 * region (CNN foreground overlapping R_hat), BG = CNN background away from (more than 2 px off) the RECIST axes, the rest ignored.
 */
export function fallbackLabels(
  t: CnnTrimap,
  prob: Float32Array,
  n: number,
): { y: Float32Array; w: Float32Array } {
  const y = new Float32Array(n * n);
  const w = new Float32Array(n * n);
  const nearAxes = dilateBox(t.axes, n, n, 2, 2);
  for (let p = 0; p < n * n; p++) {
    if (t.region[p] || t.axes[p]) {
      y[p] = 1;
      w[p] = 1;
    } else if (prob[p] < t.threshold && !nearAxes[p]) {
      w[p] = 1;
    }
  }
  return { y, w };
}
