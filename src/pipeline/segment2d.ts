/**
 * RECIST-slice segmentation with a trained 2D CNN (paper section 3.2, Table 2): the key-slice ROI of each
 * lesion goes through the network; with CNN-GC the probability map and the real RECIST make a trimap
 * (trimapFromCnn) that GrabCut refines, falling back to the CNN mask when GrabCut keeps too little. The
 * result is projected bilinearly from the ROI onto the slice grid.
 */
import type { SegNet } from '../model/binding.js';
import { grabCutSquares, nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { trimapFromCnn, type CnnTrimapOptions } from '../trimap/from-cnn.js';
import { trimapCounts } from '../trimap/labels.js';
import { keepComponentsTouching } from './connected.js';
import { predictSlices } from './infer.js';
import { roiBoxOnSlice, roiToSliceBox } from './project.js';
import type { LesionStack } from './stack.js';

export interface Segment2dOptions {
  /** Probability threshold of the CNN mask (on the slice grid, after bilinear projection). */
  threshold?: number;
  /** CNN-GC: refine the CNN output with GrabCut from the CNN trimap and the RECIST. */
  gc?: boolean;
  /** GrabCut iterations for CNN-GC. */
  iterations?: number;
  /** GrabCut keeping fewer than this many times the trimap's FG pixels falls back to the CNN mask. */
  fallbackMinRatio?: number;
  /** Keep only the mask components that touch the RECIST axes (all of them when none touches). */
  keepTouchingAxes?: boolean;
  /** ROIs per network / GrabCut call. */
  batchSize?: number;
  /** Options of the CNN trimap. */
  cnnTrimap?: CnnTrimapOptions;
}

export const SEGMENT2D_DEFAULTS = {
  threshold: 0.5,
  gc: false,
  iterations: 5,
  fallbackMinRatio: 1,
  keepTouchingAxes: true,
  batchSize: 64,
  cnnTrimap: {},
} satisfies Required<Segment2dOptions>;

export interface KeySliceResult {
  lesionId: string;
  /** Slice pixels covered by the ROI, [i0, j0, i1, j1] inclusive. */
  box: [number, number, number, number];
  /** CNN probability at every pixel of `box` (row-major over the box, i fastest). */
  probBox: Float32Array;
  /** Final binary mask on `box` (CNN, or CNN-GC when `gc`). */
  maskBox: Uint8Array;
  /** CNN-GC only: GrabCut failed or kept too little and the CNN mask was used. */
  gcFallback: boolean;
  /** CNN-GC only: the CNN covered the RECIST axes (else the trimap came from the RECIST alone). */
  cnnFound: boolean;
}

/** Segments the RECIST slice of every stack, in order. */
export async function segmentKeySlices(
  net: SegNet,
  stacks: readonly LesionStack[],
  options: Segment2dOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<KeySliceResult[]> {
  const o = { ...SEGMENT2D_DEFAULTS, ...options };
  const out: KeySliceResult[] = [];
  for (let start = 0; start < stacks.length; start += o.batchSize) {
    const part = stacks.slice(start, start + o.batchSize);
    const probs = await predictSlices(
      net,
      part.map((s) => ({ stack: s, k: s.record.keySlice })),
      { chunk: o.batchSize },
    );
    const roiMasks = o.gc ? await cnnGc(part, probs, o, engine) : undefined;
    part.forEach((s, i) => {
      const g = s.keyRoi.geometry;
      const box = roiBoxOnSlice(g);
      const probBox = roiToSliceBox(probs[i], g, box);
      const source = roiMasks?.[i].mask ? roiToSliceBox(roiMasks[i].mask!, g, box) : probBox;
      const t = roiMasks?.[i].mask ? 0.5 : o.threshold;
      let maskBox: Uint8Array = new Uint8Array(probBox.length);
      for (let p = 0; p < maskBox.length; p++) maskBox[p] = source[p] >= t ? 1 : 0;
      if (o.keepTouchingAxes) maskBox = keepTouching(maskBox, s, box);
      out.push({
        lesionId: s.record.lesionId,
        box,
        probBox,
        maskBox,
        gcFallback: roiMasks ? !roiMasks[i].mask : false,
        cnnFound: roiMasks ? roiMasks[i].cnnFound : false,
      });
    });
  }
  return out;
}

/** CNN-GC on the ROI grid: a float mask per lesion, or undefined where the CNN mask is kept (fallback). */
async function cnnGc(
  stacks: readonly LesionStack[],
  probs: Float32Array[],
  o: Required<Segment2dOptions>,
  engine: GrabCutFn,
): Promise<{ mask?: Float32Array; cnnFound: boolean }[]> {
  const n = stacks[0].keyRoi.geometry.sizePx;
  const trimaps = stacks.map((s, i) => trimapFromCnn(probs[i], n, s.keyRoi.recist, o.cnnTrimap));
  const gc = await grabCutSquares(
    stacks.map((s, i) => ({ image: s.keyRoi.image, trimap: trimaps[i].trimap })),
    n,
    o.iterations,
    engine,
  );
  return stacks.map((_, i) => {
    const t = trimaps[i];
    const kept = gc.masks[i].reduce((a, b) => a + b, 0);
    if (gc.status[i] !== 0 || kept < o.fallbackMinRatio * trimapCounts(t.trimap).fg) {
      return { cnnFound: t.cnnFound };
    }
    return {
      mask: Float32Array.from(keepComponentsTouching(gc.masks[i], t.axes, [n, n])),
      cnnFound: t.cnnFound,
    };
  });
}

/** Keeps the components of a box mask that touch the RECIST axes; unchanged when none does. */
function keepTouching(mask: Uint8Array, s: LesionStack, box: [number, number, number, number]): Uint8Array {
  const [i0, j0, i1, j1] = box;
  const w = i1 - i0 + 1;
  const h = j1 - j0 + 1;
  const axes = axesOnBox(s, box, w, h);
  const kept = keepComponentsTouching(mask, axes, [w, h]);
  return kept.some((v) => v) ? kept : mask;
}

/** The RECIST axes of the slice rasterised onto the box grid. */
function axesOnBox(s: LesionStack, box: [number, number, number, number], w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (const [a, b] of [s.record.recist.long, s.record.recist.short]) {
    const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) * 2));
    for (let t = 0; t <= steps; t++) {
      const i = Math.round(a[0] + ((b[0] - a[0]) * t) / steps) - box[0];
      const j = Math.round(a[1] + ((b[1] - a[1]) * t) / steps) - box[1];
      if (i >= 0 && j >= 0 && i < w && j < h) out[i + w * j] = 1;
    }
  }
  return out;
}

/** Writes a box mask into a full slice (ni * nj). */
export function boxToSlice(
  maskBox: Uint8Array,
  box: [number, number, number, number],
  ni: number,
  nj: number,
): Uint8Array {
  const [i0, j0, i1] = box;
  const w = i1 - i0 + 1;
  const out = new Uint8Array(ni * nj);
  for (let p = 0; p < maskBox.length; p++) {
    if (!maskBox[p]) continue;
    out[i0 + (p % w) + ni * (j0 + Math.floor(p / w))] = 1;
  }
  return out;
}
