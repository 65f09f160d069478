/**
 * Step 4 of WSSS (paper section 3.3; Algorithm 1, lines 7-11): the harvest of self-paced round k. The
 * previous round's CNN segments slices r-k..r+k of every lesion (not the key slice, whose round-0 label is
 * kept); a trimap from its output and the estimated 3D RECIST seeds GrabCut; where GrabCut keeps (almost)
 * nothing, the stated fallback label is used (FG where the CNN and the RECIST agree, the rest ignored).
 */
import type { SegNet } from '../model/binding.js';
import { predictSlices, type InputLayout, type SliceRef } from '../model/infer.js';
import { cnnGrabCut } from '../pseudo/cnn-grabcut.js';
import { nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { PSEUDO_MASK_DEFAULTS } from '../pseudo/methods.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';
import { fallbackLabels, type CnnTrimapOptions } from '../trimap/from-cnn.js';
import type { HarvestedLabel } from '../types/label.js';
import type { Recist } from '../types/recist.js';
import type { LesionStack } from '../types/stack.js';
import { resolveOptions } from '../util/options.js';

export interface HarvestOptions {
  /** GrabCut iterations. */
  iterations?: number;
  /** ROIs per native GrabCut call (does not change the labels). */
  batchSize?: number;
  /** GrabCut keeping fewer than this many times the trimap's FG pixels counts as "little foreground". */
  fallbackMinRatio?: number;
  /** CNN trimap options. */
  cnnTrimap?: CnnTrimapOptions;
  /** Depth of the estimated 3D RECIST body as a fraction of L/2 (1 = the paper's Pythagorean rule). */
  zExtent?: number;
  /** How the network's inputs are made (undefined: decoded from its channel count, no SR channels). */
  layout?: InputLayout | undefined;
}

export const HARVEST_DEFAULTS = {
  iterations: PSEUDO_MASK_DEFAULTS.iterations,
  batchSize: 64,
  fallbackMinRatio: PSEUDO_MASK_DEFAULTS.fallbackMinRatio,
  cnnTrimap: {},
  zExtent: 1,
  layout: undefined,
} satisfies Required<HarvestOptions>;

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
  const o = resolveOptions(HARVEST_DEFAULTS, options);
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
  const probs = await predictSlices(net, refs, { layout: o.layout });
  const labels: HarvestedLabel[] = [];
  let cnnFound = 0;
  let grabCutFallbacks = 0;
  for (let start = 0; start < refs.length; start += o.batchSize) {
    const part = refs.slice(start, start + o.batchSize);
    const n = part[0].stack.keyRoi.geometry.sizePx;
    const jobs = part.map((r, i) => ({
      image: r.stack.images[r.k - r.stack.kMin],
      prob: probs[start + i],
      recist: r.recistHat,
    }));
    const gc = await cnnGrabCut(jobs, n, o, engine);
    part.forEach((r, i) => {
      const { trimap, mask } = gc[i];
      if (trimap.cnnFound) cnnFound++;
      const base = { lesionId: r.stack.record.lesionId, k: r.k, offset: r.k - r.stack.record.keySlice };
      if (mask) {
        labels.push({ ...base, source: 'grabcut', y: mask, w: new Uint8Array(n * n).fill(1) });
        return;
      }
      grabCutFallbacks++;
      const fb = fallbackLabels(trimap, jobs[i].prob, n);
      labels.push({ ...base, source: 'cnn-fallback', y: toBytes(fb.y), w: toBytes(fb.w) });
    });
  }
  return { labels, stats: { slices: refs.length, cnnFound, grabCutFallbacks, skippedVanished } };
}

function toBytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] >= 0.5 ? 1 : 0;
  return out;
}
