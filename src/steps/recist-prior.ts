/**
 * The RECIST as a shape prior for the final masks (steps 5 and the shared key slice). The RECIST tells where
 * the lesion is, so the CNN only has to agree weakly inside the (estimated) RECIST ellipse, and must be sure
 * outside it; and the long axis is the lesion's longest diameter on the key slice, so nothing of the lesion
 * lies beyond the axes' ends. On isodense tumours (soft-tissue sarcomas, liver) the CNN, trained on weak
 * labels, cannot see the lesion's edge and over-segments; this rule keeps it near the ellipse unless it is
 * confident (docs/beyond-lung.md has the measurements).
 */
import { roiToSliceBox, sliceBoxSize, type SliceBox } from '../geometry/roi-project.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';
import { axesSlab, rasterizeEllipse } from '../trimap/raster.js';
import type { LesionStack } from '../types/stack.js';
import { recistIsodense } from './lesion-contrast.js';

export interface RecistPriorOptions {
  /**
   * Inside the estimated RECIST ellipse of a slice, the threshold is at most this (the RECIST says the lesion
   * is there); 0 = off.
   */
  priorThreshold?: number;
  /**
   * Outside the estimated RECIST ellipse, the threshold is at least this (leaving the ellipse needs a confident
   * CNN); 0 = off.
   */
  priorOutThreshold?: number;
  /**
   * `priorOutThreshold` applies only to lesions whose surroundings look like them: more than this share of the
   * ring around the RECIST ellipse has HU within the lesion core's (lesion-contrast.ts). Where the CT shows the
   * lesion's edge the CNN may follow it; where it cannot, the RECIST ellipse is the better guess. 0 = always.
   */
  priorIsodenseAbove?: number;
  /**
   * Key slice: clear pixels beyond the RECIST axes' ends along each axis' direction, plus this fraction of the
   * axis' length (and half a pixel); negative = off. Nesting (step 5) carries the bound to the other slices.
   */
  keySlab?: number;
}

export const RECIST_PRIOR_DEFAULTS = {
  priorThreshold: 0.2,
  priorOutThreshold: 0.9,
  priorIsodenseAbove: 0.15,
  keySlab: 0,
} satisfies Required<RecistPriorOptions>;

/** The prior of one lesion: `priorOutThreshold` off when its surroundings do not look like it. */
export function lesionPrior<O extends Required<RecistPriorOptions>>(s: LesionStack, o: O): O {
  if (o.priorOutThreshold <= 0 || o.priorIsodenseAbove <= 0) return o;
  // without HU (a stack built without the volume's values) the share is unknown (NaN): keep the rule
  return recistIsodense(s) <= o.priorIsodenseAbove ? { ...o, priorOutThreshold: 0 } : o;
}

/** 1 on the pixels of `box` inside the estimated RECIST ellipse of stack slice k (all 0 past the lesion). */
export function priorEllipseOnBox(s: LesionStack, k: number, box: SliceBox): Uint8Array {
  const g = s.keyRoi.geometry;
  const [w, h] = sliceBoxSize(box);
  const out = new Uint8Array(w * h);
  const r = estimatedRoiRecist(s, k);
  if (!r) return out;
  const inside = roiToSliceBox(Float32Array.from(rasterizeEllipse(r, g.sizePx)), g, box);
  for (let p = 0; p < out.length; p++) out[p] = inside[p] >= 0.5 ? 1 : 0;
  return out;
}

/**
 * Thresholds a slice's map with the prior: `t` lowered to `priorThreshold` inside `ellipse`, raised to
 * `priorOutThreshold` outside it (each only when on).
 */
export function thresholdWithPrior(
  prob: Float32Array,
  ellipse: Uint8Array | undefined,
  t: number,
  o: Required<RecistPriorOptions>,
): Uint8Array {
  const tIn = ellipse && o.priorThreshold > 0 ? Math.min(t, o.priorThreshold) : t;
  const tOut = ellipse && o.priorOutThreshold > 0 ? Math.max(t, o.priorOutThreshold) : t;
  const out = new Uint8Array(prob.length);
  for (let p = 0; p < prob.length; p++) out[p] = prob[p] >= (ellipse?.[p] ? tIn : tOut) ? 1 : 0;
  return out;
}

/** In place: clears the key-slice pixels of `box` beyond the RECIST axes' ends (see `keySlab`). */
export function clearBeyondAxes(mask: Uint8Array, s: LesionStack, box: SliceBox, tol: number): void {
  if (tol < 0) return;
  const [sx, sy] = s.image.spacingMm;
  const slab = axesSlab(s.record.recist, box, [sx, sy], [tol, tol]);
  for (let p = 0; p < mask.length; p++) if (!slab[p]) mask[p] = 0;
}
