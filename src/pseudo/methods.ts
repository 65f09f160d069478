/**
 * The five ways of Table 1 to turn a RECIST on its ROI into a 2D training mask. Each lesion goes through
 * `planLesionMask` (pure: a direct mask, or a trimap for GrabCut) and, for the GrabCut methods,
 * `finishGrabCutMask` once the batched native GrabCut has run.
 *
 * - 'recist': the RECIST axes dilated (by distance) to `recistAreaFraction` of the tight RECIST box area.
 * - 'dcrf': dense CRF (dcrf.ts) with the GrabCut-i trimap as unary.
 * - 'grabcut-box': GrabCut from the padded box: outside BG, inside PFG.
 * - 'grabcut-i': as 'grabcut-box' plus the central 20 % of the box FG.
 * - 'ellipse': the RECIST ellipse itself (image-free reference; ~0.86 Dice on LIDC key slices,
 *   docs/results-3d.md).
 * - 'grabcut-r' (default): GrabCut from the RECIST trimap (recist-trimap.ts); the result is united with the
 *   axes and only components touching the axes are kept. Fallback: when GrabCut keeps fewer than
 *   `fallbackMinRatio` x the trimap's FG pixels, or the native call reports a failure, the mask is the
 *   trimap's FG + PFG.
 */
import type { Roi } from '../geometry/roi.js';
import { keepComponentsTouching } from '../geometry/connected.js';
import { boxTrimap, paddedRecistBox, type BoxTrimapOptions } from '../trimap/box-trimap.js';
import { trimapCounts, trimapForeground } from '../trimap/labels.js';
import { axesSlab, dilateToCount, rasterizeAxes, rasterizeEllipse } from '../trimap/raster.js';
import { trimapFromRecist, type RecistTrimapOptions } from '../trimap/recist-trimap.js';
import { denseCrfMask, type DenseCrfOptions } from './dcrf.js';
import { resolveOptions } from '../util/options.js';

/** Table 1's five methods, then 'ellipse' (an image-free reference, not in the paper). */
export const MASK_METHODS = ['recist', 'dcrf', 'grabcut-box', 'grabcut-i', 'grabcut-r', 'ellipse'] as const;
export type MaskMethod = (typeof MASK_METHODS)[number];

export interface PseudoMaskOptions {
  /** Which Table 1 method. */
  method?: MaskMethod;
  /** GrabCut iterations (all GrabCut methods). */
  iterations?: number;
  /** GrabCut-R trimap options (kind and shares). */
  trimap?: RecistTrimapOptions;
  /** Box options for grabcut-box, grabcut-i and the DCRF unary (innerFraction is forced to 0 for grabcut-box). */
  box?: BoxTrimapOptions;
  /** 'recist': area of the dilated axes as a share of the tight RECIST box area. */
  recistAreaFraction?: number;
  /** 'dcrf': CRF options. */
  dcrf?: DenseCrfOptions;
  /** 'grabcut-r': fall back to FG + PFG when GrabCut keeps fewer than this many times the FG pixels. */
  fallbackMinRatio?: number;
  /**
   * 'grabcut-r': drop pixels outside the RECIST ellipse scaled by this factor (0 = no clamp). 1.2 raised
   * mDICE on LIDC (0.87 -> 0.88) and phantoms (0.94 -> 0.95, bone 0.79 -> 0.92); docs/table1.md.
   */
  clampEllipseScale?: number;
  /**
   * 'grabcut-r': drop pixels beyond the RECIST axes' ends along each axis' own direction, with a tolerance of
   * this fraction of the axis length on each end (long axis: a lesion cannot reach past its longest
   * diameter's ends); [long, short], negative = off. [0, 0] raised the key-slice label Dice on the sarcomas
   * (0.813 -> 0.862), the phantoms (0.943 -> 0.948) and LIDC (0.867 -> 0.870); docs/beyond-lung.md.
   */
  clampSlab?: [number, number];
}

export const PSEUDO_MASK_DEFAULTS = {
  method: 'grabcut-r',
  iterations: 5,
  trimap: {},
  box: {},
  recistAreaFraction: 0.2,
  dcrf: {},
  fallbackMinRatio: 1.05,
  clampEllipseScale: 1.2,
  clampSlab: [0, 0],
} satisfies Required<PseudoMaskOptions>;

export type LesionPlan =
  { kind: 'direct'; mask: Uint8Array } | { kind: 'grabcut'; trimap: Uint8Array; image: Uint8Array };

export interface FinishedMask {
  /** Binary mask on the ROI grid. */
  mask: Uint8Array;
  /** True when the stated fallback replaced GrabCut's answer. */
  fallback: boolean;
}

export function isMaskMethod(s: string): s is MaskMethod {
  return (MASK_METHODS as readonly string[]).includes(s);
}

/** The pure part of a method on one ROI. */
export function planLesionMask(roi: Roi, options: PseudoMaskOptions = {}): LesionPlan {
  const o = resolveOptions(PSEUDO_MASK_DEFAULTS, options);
  const n = roi.geometry.sizePx;
  switch (o.method) {
    case 'recist': {
      const [u0, v0, u1, v1] = paddedRecistBox(roi.recist, 0);
      const area = Math.max(1, (u1 - u0) * (v1 - v0));
      return {
        kind: 'direct',
        mask: dilateToCount(rasterizeAxes(roi.recist, n), n, Math.round(o.recistAreaFraction * area)),
      };
    }
    case 'ellipse':
      return { kind: 'direct', mask: rasterizeEllipse(roi.recist, n) };
    case 'dcrf':
      return { kind: 'direct', mask: denseCrfMask(roi.image, boxTrimap(roi.recist, n, o.box), n, o.dcrf) };
    case 'grabcut-box':
      return {
        kind: 'grabcut',
        image: roi.image,
        trimap: boxTrimap(roi.recist, n, { ...o.box, innerFraction: 0 }),
      };
    case 'grabcut-i':
      return { kind: 'grabcut', image: roi.image, trimap: boxTrimap(roi.recist, n, o.box) };
    case 'grabcut-r':
      return { kind: 'grabcut', image: roi.image, trimap: trimapFromRecist(roi.recist, n, o.trimap) };
  }
}

/**
 * Post-processing of a GrabCut answer. `nativeStatus` is the binding's per-image status (0 = GrabCut ran).
 */
export function finishGrabCutMask(
  roi: Roi,
  trimap: Uint8Array,
  grabCutMask: Uint8Array,
  nativeStatus: number,
  options: PseudoMaskOptions = {},
): FinishedMask {
  const o = resolveOptions(PSEUDO_MASK_DEFAULTS, options);
  if (o.method !== 'grabcut-r') return { mask: grabCutMask, fallback: nativeStatus !== 0 };
  const n = roi.geometry.sizePx;
  const fgCount = trimapCounts(trimap).fg;
  let kept = 0;
  for (let i = 0; i < grabCutMask.length; i++) kept += grabCutMask[i];
  if (nativeStatus !== 0 || kept < o.fallbackMinRatio * fgCount)
    return { mask: trimapForeground(trimap), fallback: true };
  const axes = rasterizeAxes(roi.recist, n);
  const mask = new Uint8Array(grabCutMask);
  for (let i = 0; i < mask.length; i++) if (axes[i]) mask[i] = 1;
  if (o.clampEllipseScale > 0) {
    const ellipse = rasterizeEllipse(roi.recist, n, o.clampEllipseScale);
    for (let i = 0; i < mask.length; i++) if (!ellipse[i] && !axes[i]) mask[i] = 0;
  }
  if (o.clampSlab[0] >= 0 || o.clampSlab[1] >= 0) {
    const slab = axesSlab(roi.recist, [0, 0, n - 1, n - 1], [1, 1], o.clampSlab);
    for (let i = 0; i < mask.length; i++) if (!slab[i] && !axes[i]) mask[i] = 0;
  }
  return { mask: keepComponentsTouching(mask, axes, [n, n]), fallback: false };
}
