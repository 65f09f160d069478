/**
 * GrabCut seeded by a CNN (paper section 3.3, "Trimap from CNN output"): the CNN's probability map and the
 * (estimated) RECIST make a trimap (trimap/from-cnn), GrabCut refines it, and the component touching the
 * RECIST axes is kept. Where GrabCut fails or keeps (almost) nothing, the caller is told so and keeps its own
 * fallback. One implementation for the harvest of the self-paced rounds and for CNN-GC post-processing.
 */
import { keepComponentsTouching } from '../geometry/connected.js';
import { trimapFromCnn, type CnnTrimap, type CnnTrimapOptions } from '../trimap/from-cnn.js';
import { trimapCounts } from '../trimap/labels.js';
import type { Recist } from '../types/recist.js';
import { grabCutSquares, nativeGrabCut, type GrabCutFn } from './grabcut.js';

export interface CnnGrabCutJob {
  /** Grey ROI image, n * n, 0..255. */
  image: Uint8Array;
  /** The CNN's probability map on the same ROI. */
  prob: Float32Array;
  /** The slice's RECIST (estimated off the key slice) in ROI coordinates. */
  recist: Recist;
}

export interface CnnGrabCutOptions {
  /** GrabCut iterations. */
  iterations: number;
  /** GrabCut keeping fewer than this many times the trimap's FG pixels counts as a failure. */
  fallbackMinRatio: number;
  cnnTrimap: CnnTrimapOptions;
}

export interface CnnGrabCutResult {
  trimap: CnnTrimap;
  /** GrabCut's mask (component touching the axes), or undefined where GrabCut failed or kept too little. */
  mask?: Uint8Array;
}

/** Runs CNN-seeded GrabCut on square n x n jobs in one native call; results in job order. */
export async function cnnGrabCut(
  jobs: readonly CnnGrabCutJob[],
  n: number,
  options: CnnGrabCutOptions,
  engine: GrabCutFn = nativeGrabCut,
): Promise<CnnGrabCutResult[]> {
  const trimaps = jobs.map((j) => trimapFromCnn(j.prob, n, j.recist, options.cnnTrimap));
  const gc = await grabCutSquares(
    jobs.map((j, i) => ({ image: j.image, trimap: trimaps[i].trimap })),
    n,
    options.iterations,
    engine,
  );
  return trimaps.map((t, i) => {
    const kept = gc.masks[i].reduce((a, b) => a + b, 0);
    if (gc.status[i] !== 0 || kept < options.fallbackMinRatio * trimapCounts(t.trimap).fg)
      return { trimap: t };
    return { trimap: t, mask: keepComponentsTouching(gc.masks[i], t.axes, [n, n]) };
  });
}
