/**
 * The mask on the RECIST (key) slice, shared by `run` (step 5) and `segment`, so the same model gives the same
 * key-slice mask through either command. The CNN map, projected onto the slice pixels the ROI covers, is
 * thresholded; when the mask covers less than `keyAxisCoverage` of the RECIST axes' pixels, the threshold is
 * lowered in steps of 0.05 (not below `minKeyThreshold`), because the axes end on the lesion's edge; then only
 * the 8-connected components touching the axes are kept.
 */
import { keepComponentsTouching } from '../geometry/connected.js';
import { roiBoxOnSlice, roiToSliceBox, sliceBoxSize, type SliceBox } from '../geometry/roi-project.js';
import type { SegNet } from '../model/binding.js';
import { nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import type { Recist } from '../types/recist.js';
import type { LesionStack } from '../types/stack.js';
import { resolveOptions } from '../util/options.js';
import { CNN_MAP_DEFAULTS, cnnMaps, type CnnMapOptions } from './cnn-maps.js';
import {
  HU_EXCLUSION_DEFAULTS,
  excludeByHu,
  huRange,
  huSlice,
  type HuExclusionOptions,
} from './hu-exclusion.js';
import {
  RECIST_PRIOR_DEFAULTS,
  clearBeyondAxes,
  lesionPrior,
  priorEllipseOnBox,
  thresholdWithPrior,
  type RecistPriorOptions,
} from './recist-prior.js';
import {
  RING_EXCLUSION_DEFAULTS,
  excludeRingLike,
  ringModel,
  type RingExclusionOptions,
  type RingModel,
} from './ring-exclusion.js';

export interface KeySliceOptions extends RecistPriorOptions, HuExclusionOptions, RingExclusionOptions {
  /** Probability threshold on the CT grid. */
  threshold?: number;
  /** Lowest threshold tried on the key slice when the mask covers too little of the RECIST axes. */
  minKeyThreshold?: number;
  /**
   * Fraction of the RECIST axes' pixels the key-slice mask must cover: the threshold there is lowered (down
   * to `minKeyThreshold`) until it does. The axes end on the lesion's edge, so a mask should cover them.
   */
  keyAxisCoverage?: number;
}

export const KEY_SLICE_DEFAULTS = {
  threshold: 0.5,
  minKeyThreshold: 0.1,
  keyAxisCoverage: 0.9,
  ...RECIST_PRIOR_DEFAULTS,
  ...HU_EXCLUSION_DEFAULTS,
  ...RING_EXCLUSION_DEFAULTS,
} satisfies Required<KeySliceOptions>;

export interface SegmentKeySliceOptions extends KeySliceOptions, CnnMapOptions {
  /** Lesions per network / GrabCut call (does not change the masks). */
  batchSize?: number;
}

export const SEGMENT_KEY_SLICE_DEFAULTS = {
  ...KEY_SLICE_DEFAULTS,
  ...CNN_MAP_DEFAULTS,
  batchSize: 64,
} satisfies Required<SegmentKeySliceOptions>;

export interface KeySliceMask {
  /** Binary mask on the box. */
  mask: Uint8Array;
  /** The RECIST axes rasterised on the box (the seed of the lesion's components). */
  axes: Uint8Array;
  /** The threshold used (below `threshold` when lowered for coverage). */
  threshold: number;
  lowered: boolean;
}

/**
 * The key-slice mask of a probability map on `box` (see the module comment): the coverage rule, then the
 * lesion's rules (`sliceWithRules`), and the components touching the axes. `rules` may come from the caller,
 * which then computes them once per lesion for all its slices.
 */
export function keySliceMask(
  probBox: Float32Array,
  s: LesionStack,
  box: SliceBox,
  options: KeySliceOptions = {},
  rules: LesionRules = lesionRules(s, box, resolveOptions(KEY_SLICE_DEFAULTS, options)),
): KeySliceMask {
  const o = resolveOptions(KEY_SLICE_DEFAULTS, options);
  const axes = axesOnBox(s.record.recist, box);
  let t = o.threshold;
  // steps of 0.05, never below minKeyThreshold (the epsilon absorbs the steps' rounding)
  while (coverage(probBox, axes, t) < o.keyAxisCoverage && t - 0.05 >= o.minKeyThreshold - 1e-9) t -= 0.05;
  const binary = sliceWithRules(probBox, s, s.record.keySlice, box, t, rules);
  const [w, h] = sliceBoxSize(box);
  return { mask: keepComponentsTouching(binary, axes, [w, h]), axes, threshold: t, lowered: t < o.threshold };
}

/**
 * The per-lesion part of the slice rules: the lesion's RECIST prior and, when the HU rules apply on the box
 * (the stack's HU box), its HU range and ring model.
 */
export interface LesionRules {
  prior: Required<RecistPriorOptions>;
  hu: { range: [number, number]; airNearMm: number } | undefined;
  ring: RingModel | undefined;
}

/** The rules of one lesion on `box`, computed once for all its slices. */
export function lesionRules(s: LesionStack, box: SliceBox, o: Required<KeySliceOptions>): LesionRules {
  const range = huRange(s, o.huExclusion);
  const onHuBox = sameBox(s.boxHu?.box, box);
  return {
    prior: lesionPrior(s, o),
    hu: range && o.huExclusion && onHuBox ? { range, airNearMm: o.huExclusion.airNearMm } : undefined,
    ring: o.ringExclusion && onHuBox ? ringModel(s, o.ringExclusion) : undefined,
  };
}

/**
 * One slice's mask on `box` at threshold `t`: the RECIST prior inside and outside the slice's estimated
 * ellipse, on the key slice the axes' slab, then HU exclusion and, off the key slice, ring exclusion.
 */
export function sliceWithRules(
  prob: Float32Array,
  s: LesionStack,
  k: number,
  box: SliceBox,
  t: number,
  rules: LesionRules,
): Uint8Array {
  const { prior, hu } = rules;
  const priorOn = prior.priorThreshold > 0 || prior.priorOutThreshold > 0;
  const binary = thresholdWithPrior(prob, priorOn ? priorEllipseOnBox(s, k, box) : undefined, t, prior);
  if (k === s.record.keySlice) clearBeyondAxes(binary, s, box, prior.keySlab);
  if (hu) excludeByHu(binary, huSlice(s, k), box, hu.range, hu.airNearMm, s.image.spacingMm);
  if (rules.ring && k !== s.record.keySlice) excludeRingLike(binary, huSlice(s, k), box, rules.ring);
  return binary;
}

/** Whether two slice boxes are the same pixels. */
export function sameBox(a: SliceBox | undefined, b: SliceBox): boolean {
  return !!a && a.every((v, i) => v === b[i]);
}

function coverage(prob: Float32Array, axes: Uint8Array, t: number): number {
  let all = 0;
  let hit = 0;
  for (let p = 0; p < axes.length; p++) {
    if (!axes[p]) continue;
    all++;
    if (prob[p] >= t) hit++;
  }
  return all ? hit / all : 1;
}

/** The RECIST axes (slice coordinates) rasterised onto the pixels of `box`. */
export function axesOnBox(recist: Recist, box: SliceBox): Uint8Array {
  const [i0, j0, i1, j1] = box;
  const w = i1 - i0 + 1;
  const h = j1 - j0 + 1;
  const out = new Uint8Array(w * h);
  for (const [a, b] of [recist.long, recist.short]) {
    const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) * 2));
    for (let t = 0; t <= steps; t++) {
      const i = Math.round(a[0] + ((b[0] - a[0]) * t) / steps) - i0;
      const j = Math.round(a[1] + ((b[1] - a[1]) * t) / steps) - j0;
      if (i >= 0 && j >= 0 && i < w && j < h) out[i + w * j] = 1;
    }
  }
  return out;
}

/** Writes a box mask into a full slice (ni * nj). */
export function boxToSlice(maskBox: Uint8Array, box: SliceBox, ni: number, nj: number): Uint8Array {
  const [i0, j0, i1] = box;
  const w = i1 - i0 + 1;
  const out = new Uint8Array(ni * nj);
  for (let p = 0; p < maskBox.length; p++) {
    if (!maskBox[p]) continue;
    out[i0 + (p % w) + ni * (j0 + Math.floor(p / w))] = 1;
  }
  return out;
}

export interface KeySliceResult {
  lesionId: string;
  /** Slice pixels covered by the ROI, [i0, j0, i1, j1] inclusive. */
  box: SliceBox;
  /** The map at every pixel of `box` (the CNN's probability, or GrabCut's mask with CNN-GC), i fastest. */
  probBox: Float32Array;
  /** The key-slice mask on `box`. */
  maskBox: Uint8Array;
  threshold: number;
  /** CNN-GC only: GrabCut failed or kept too little and the CNN map was used. */
  gcFallback: boolean;
}

/** Segments the RECIST slice of every stack, in order (the key-slice path of `segment` and of step 5). */
export async function segmentKeySlices(
  net: SegNet,
  stacks: readonly LesionStack[],
  options: SegmentKeySliceOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<KeySliceResult[]> {
  const o = resolveOptions(SEGMENT_KEY_SLICE_DEFAULTS, options);
  const out: KeySliceResult[] = [];
  for (let start = 0; start < stacks.length; start += o.batchSize) {
    const part = stacks.slice(start, start + o.batchSize);
    const refs = part.map((s) => ({ stack: s, k: s.record.keySlice }));
    const { maps, grabCutTaken } = await cnnMaps(net, refs, { ...o, chunk: o.batchSize }, engine);
    part.forEach((s, i) => {
      const box = roiBoxOnSlice(s.keyRoi.geometry);
      const probBox = roiToSliceBox(maps[i], s.keyRoi.geometry, box);
      const key = keySliceMask(probBox, s, box, o);
      out.push({
        lesionId: s.record.lesionId,
        box,
        probBox,
        maskBox: key.mask,
        threshold: key.threshold,
        gcFallback: o.gc && !grabCutTaken[i],
      });
    });
  }
  return out;
}
