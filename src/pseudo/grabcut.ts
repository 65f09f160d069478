/** Batched GrabCut through the native binding, for grey ROIs and TRIMAP-labelled trimaps. */
import type { GrabCutBatch, GrabCutResult } from '../model/binding.js';

/** A GrabCut engine: the native binding by default; tests may pass another with the same contract. */
export type GrabCutFn = (batch: GrabCutBatch) => Promise<GrabCutResult>;

/** The native engine (loaded on first use, so modules that never run GrabCut do not need the addon). */
export const nativeGrabCut: GrabCutFn = async (batch) => {
  const { grabCutWithStatus } = await import('../model/binding.js');
  return grabCutWithStatus(batch);
};

export interface GrabCutJob {
  /** Grey image, n * n, 0..255. */
  image: Uint8Array;
  /** Trimap, n * n. */
  trimap: Uint8Array;
}

/**
 * Runs GrabCut on square n x n jobs in one native call (grey replicated to 3 channels). Returns one mask
 * and one native status per job, in order.
 */
export async function grabCutSquares(
  jobs: readonly GrabCutJob[],
  n: number,
  iterations: number,
  engine: GrabCutFn = nativeGrabCut,
): Promise<{ masks: Uint8Array[]; status: number[] }> {
  if (jobs.length === 0) return { masks: [], status: [] };
  const plane = n * n;
  const images = new Uint8Array(jobs.length * plane * 3);
  const trimaps = new Uint8Array(jobs.length * plane);
  jobs.forEach((job, k) => {
    trimaps.set(job.trimap, k * plane);
    const base = k * plane * 3;
    for (let p = 0; p < plane; p++) {
      const g = job.image[p];
      images[base + 3 * p] = g;
      images[base + 3 * p + 1] = g;
      images[base + 3 * p + 2] = g;
    }
  });
  const r = await engine({ images, trimaps, n: jobs.length, h: n, w: n, iterations });
  return {
    masks: jobs.map((_, k) => r.masks.slice(k * plane, (k + 1) * plane)),
    status: Array.from(r.status),
  };
}
