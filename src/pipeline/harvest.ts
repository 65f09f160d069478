/**
 * Training labels for the self-paced rounds (Algorithm 1):
 * - round 0: the key slice of every lesion, labelled by GrabCut-R (or the RECIST trimap, or the truth);
 * - round k: CNN inference on slices r-k..r+k, a trimap from the CNN output and the estimated RECIST, GrabCut,
 *   and the stated fallback when GrabCut keeps (almost) nothing.
 */
import type { SegNet } from '../model/binding.js';
import { grabCutSquares, nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { masksForRois } from '../pseudo/cohort.js';
import { estimateRecist3d } from '../recist/estimate3d.js';
import { TRIMAP, trimapCounts } from '../trimap/labels.js';
import { fallbackLabels, trimapFromCnn, type CnnTrimapOptions } from '../trimap/from-cnn.js';
import { trimapFromRecist } from '../trimap/recist-trimap.js';
import { recistToRoi } from '../geometry/roi.js';
import type { Recist } from '../types/recist.js';
import { keepComponentsTouching } from './connected.js';
import { predictSlices, type SliceRef } from './infer.js';
import type { HarvestedLabel } from './label-store.js';
import type { LesionStack } from './stack.js';

export type InitialLabels = 'grabcut-r' | 'recist' | 'full';

export interface HarvestOptions {
  /** GrabCut iterations. */
  iterations?: number;
  /** ROIs per native GrabCut call. */
  batchSize?: number;
  /** GrabCut keeping fewer than this many times the trimap's FG pixels counts as "little foreground". */
  fallbackMinRatio?: number;
  /** CNN trimap options. */
  cnnTrimap?: CnnTrimapOptions;
  /** Depth of the estimated 3D RECIST body as a fraction of L/2 (1 = the paper's Pythagorean rule). */
  zExtent?: number;
}

export const HARVEST_DEFAULTS = {
  iterations: 5,
  batchSize: 64,
  fallbackMinRatio: 1.05,
  cnnTrimap: {},
  zExtent: 1,
} satisfies Required<HarvestOptions>;

const ones = (n: number) => new Uint8Array(n).fill(1);

/**
 * Round-0 labels on the key slices. 'grabcut-r' runs GrabCut-R; 'recist' uses the RECIST trimap with the
 * uncertain regions ignored (weight 0); 'full' uses the ground truth (`truthKey` must be given per lesion).
 */
export async function initialLabels(
  stacks: readonly LesionStack[],
  kind: InitialLabels,
  truthKey: (s: LesionStack) => Uint8Array | undefined,
  options: HarvestOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<HarvestedLabel[]> {
  const o = { ...HARVEST_DEFAULTS, ...options };
  const base = (s: LesionStack) => ({ lesionId: s.record.lesionId, k: s.record.keySlice, offset: 0 });
  if (kind === 'grabcut-r') {
    const res = await masksForRois(
      stacks.map((s) => s.keyRoi),
      { method: 'grabcut-r', iterations: o.iterations, batchSize: o.batchSize },
      engine,
    );
    return stacks.map((s, i) => ({
      ...base(s),
      source: res[i].fallback ? 'grabcut-fallback' : 'grabcut',
      y: res[i].mask,
      w: ones(res[i].mask.length),
    }));
  }
  if (kind === 'recist') {
    return stacks.map((s) => {
      const n = s.keyRoi.geometry.sizePx;
      const t = trimapFromRecist(s.keyRoi.recist, n);
      const y = new Uint8Array(n * n);
      const w = new Uint8Array(n * n);
      for (let p = 0; p < n * n; p++) {
        if (t[p] === TRIMAP.FG) y[p] = w[p] = 1;
        else if (t[p] === TRIMAP.BG) w[p] = 1;
      }
      return { ...base(s), source: 'recist-trimap' as const, y, w };
    });
  }
  return stacks.flatMap((s) => {
    const y = truthKey(s);
    return y ? [{ ...base(s), source: 'truth' as const, y, w: ones(y.length) }] : [];
  });
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

export interface HarvestStats {
  slices: number;
  cnnFound: number;
  grabCutFallbacks: number;
  skippedVanished: number;
}

/**
 * Round-k harvest: labels on slices r-k..r+k except the key slice (whose round-0 label is kept), for every
 * lesion and offset where the estimated RECIST exists and the slice is in the image.
 */
export async function harvestRound(
  net: SegNet,
  stacks: readonly LesionStack[],
  round: number,
  options: HarvestOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<{ labels: HarvestedLabel[]; stats: HarvestStats }> {
  const o = { ...HARVEST_DEFAULTS, ...options };
  const refs: (SliceRef & { recistHat: Recist })[] = [];
  let skippedVanished = 0;
  for (const s of stacks) {
    for (let tau = -round; tau <= round; tau++) {
      if (tau === 0) continue;
      const k = s.record.keySlice + tau;
      if (k < s.kMin || k > s.kMax) continue;
      const recistHat = estimatedRoiRecist(s, k, o.zExtent);
      if (!recistHat) {
        skippedVanished++;
        continue;
      }
      refs.push({ stack: s, k, recistHat });
    }
  }
  const probs = await predictSlices(net, refs);
  const labels: HarvestedLabel[] = [];
  let cnnFound = 0;
  let grabCutFallbacks = 0;
  for (let start = 0; start < refs.length; start += o.batchSize) {
    const part = refs.slice(start, start + o.batchSize);
    const n = part[0].stack.keyRoi.geometry.sizePx;
    const trimaps = part.map((r, i) => trimapFromCnn(probs[start + i], n, r.recistHat, o.cnnTrimap));
    const jobs = part.map((r, i) => ({
      image: r.stack.images[r.k - r.stack.kMin],
      trimap: trimaps[i].trimap,
    }));
    const gc = await grabCutSquares(jobs, n, o.iterations, engine);
    part.forEach((r, i) => {
      const t = trimaps[i];
      if (t.cnnFound) cnnFound++;
      const kept = gc.masks[i].reduce((a, b) => a + b, 0);
      const base = { lesionId: r.stack.record.lesionId, k: r.k, offset: r.k - r.stack.record.keySlice };
      if (gc.status[i] !== 0 || kept < o.fallbackMinRatio * trimapCounts(t.trimap).fg) {
        grabCutFallbacks++;
        const fb = fallbackLabels(t, probs[start + i], n);
        labels.push({ ...base, source: 'cnn-fallback', y: toBytes(fb.y), w: toBytes(fb.w) });
        return;
      }
      const y = keepComponentsTouching(gc.masks[i], t.axes, [n, n]);
      labels.push({ ...base, source: 'grabcut', y, w: ones(n * n) });
    });
  }
  return { labels, stats: { slices: refs.length, cnnFound, grabCutFallbacks, skippedVanished } };
}

function toBytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] >= 0.5 ? 1 : 0;
  return out;
}
