/**
 * The maps that steps 5 and `segment` threshold: the CNN's probability on each ROI slice (optionally averaged
 * over flips, `tta`), or with CNN-GC (`gc`, paper Table 2 and Table 5's WSSS-GC) GrabCut's mask seeded by the
 * CNN trimap and the slice's (estimated) RECIST, keeping the CNN map where GrabCut fails or keeps too little.
 */
import type { SegNet } from '../model/binding.js';
import { predictSlices, type InputLayout, type SliceRef } from '../model/infer.js';
import { cnnGrabCut } from '../pseudo/cnn-grabcut.js';
import { nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { PSEUDO_MASK_DEFAULTS } from '../pseudo/methods.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';
import type { CnnTrimapOptions } from '../trimap/from-cnn.js';
import { resolveOptions } from '../util/options.js';

export interface CnnMapOptions {
  /** CNN-GC: refine each slice with GrabCut initialised from the CNN trimap. */
  gc?: boolean;
  /** GrabCut iterations for CNN-GC. */
  iterations?: number;
  /** Options of the CNN trimap (CNN-GC). */
  cnnTrimap?: CnnTrimapOptions;
  /** Test-time augmentation: average the CNN maps over the four flips of each slice (4x inference). */
  tta?: boolean;
  /** Images per engine call (does not change the maps). */
  chunk?: number;
  /** How the network's inputs are made (undefined: decoded from its channel count, no SR channels). */
  layout?: InputLayout | undefined;
}

export const CNN_MAP_DEFAULTS = {
  gc: false,
  iterations: PSEUDO_MASK_DEFAULTS.iterations,
  cnnTrimap: {},
  tta: false,
  chunk: 256,
  layout: undefined,
} satisfies Required<CnnMapOptions>;

export interface CnnMaps {
  /** One n*n map per slice reference, in order. */
  maps: Float32Array[];
  /** Per reference: GrabCut's mask replaced the CNN map (always false without `gc`). */
  grabCutTaken: boolean[];
}

/**
 * The maps of the slice references. CNN-GC runs on the slices where the estimated RECIST (the paper's
 * Pythagorean rule) exists, and keeps the CNN map where GrabCut keeps fewer pixels than the trimap's FG.
 */
export async function cnnMaps(
  net: SegNet,
  refs: readonly SliceRef[],
  options: CnnMapOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<CnnMaps> {
  const o = resolveOptions(CNN_MAP_DEFAULTS, options);
  const maps = await predictSlices(net, refs, { tta: o.tta, chunk: o.chunk, layout: o.layout });
  const grabCutTaken = refs.map(() => false);
  if (!o.gc || refs.length === 0) return { maps, grabCutTaken };
  const n = net.config.size;
  const idx: number[] = [];
  const jobs = refs.flatMap((r, i) => {
    const recist = estimatedRoiRecist(r.stack, r.k);
    if (!recist) return [];
    idx.push(i);
    return [{ image: r.stack.images[r.k - r.stack.kMin], prob: maps[i], recist }];
  });
  const gc = await cnnGrabCut(jobs, n, { ...o, fallbackMinRatio: 1 }, engine);
  idx.forEach((i, m) => {
    const mask = gc[m].mask;
    if (!mask) return;
    maps[i] = Float32Array.from(mask);
    grabCutTaken[i] = true;
  });
  return { maps, grabCutTaken };
}
