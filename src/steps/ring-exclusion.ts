/**
 * Ring exclusion: on the slices around the key slice, mask pixels whose locally averaged HU looks like the
 * lesion's surroundings and not like the lesion leave the mask. On the key slice, the HU of the RECIST ellipse
 * shrunk to `coreScale` (mostly lesion, necrotic centre and viable rim alike) and of the ring just outside the
 * ellipse (1.2 to 1.6 times it: mostly not lesion) give two smoothed histograms (lesion-contrast.ts); a pixel is
 * ring-like when the ring really has its value (at least `minRingShare` of the ring histogram's peak) and the
 * ring's density there is more than `ratio` times the core's.
 *
 * What stays, by construction: every pixel of a lesion as dense as its surroundings (the two histograms
 * coincide: a sarcoma in muscle), values neither histogram has (a partial-volume edge between lesion and
 * lung, an enhancing rim the core lacks), and ring-like pixels within `keepNearPx` of kept ones (the edge).
 * What goes: the neighbouring organ a CNN trained on few lesions follows past the lesion (the kidney around a
 * renal cyst, the liver beyond a hypodense metastasis). The key slice is left to the CNN and the RECIST prior:
 * its mask beat the rule there (docs/beyond-lung.md has the measurements).
 */
import { sliceBoxSize, type SliceBox } from '../geometry/roi-project.js';
import { dilateBox } from '../trimap/raster.js';
import type { LesionStack } from '../types/stack.js';
import { huSlice } from './hu-exclusion.js';
import { coreAndRing } from './lesion-contrast.js';

export interface RingExclusion {
  /** A pixel is ring-like when the ring's density at its HU exceeds `ratio` times the core's. */
  ratio: number;
  /** Half-width in pixels of the box mean applied to the HU before the histograms and the test (noise). */
  smoothPx: number;
  /** Gaussian bandwidth of both histograms, HU. */
  bandwidthHu: number;
  /** The ring's density must be at least this share of its peak (the ring really has the value). */
  minRingShare: number;
  /** Ring-like pixels within this many pixels of kept pixels stay (partial volume at the edge); 0 = none. */
  keepNearPx: number;
  /**
   * The lesion's histogram comes from the RECIST ellipse scaled by this: large enough to hold a viable rim
   * around a necrotic centre, small enough to stay off the lesion's partial-volume edge.
   */
  coreScale: number;
}

export interface RingExclusionOptions {
  /** Ring exclusion on the slices other than the key slice; null = off. */
  ringExclusion?: RingExclusion | null;
}

export const RING_EXCLUSION_DEFAULTS = {
  ringExclusion: {
    ratio: 4,
    smoothPx: 1,
    bandwidthHu: 15,
    minRingShare: 0.05,
    keepNearPx: 1,
    coreScale: 0.8,
  },
} satisfies Required<RingExclusionOptions>;

const LO_HU = -1100;
const BIN_HU = 5;
const BINS = 1000; // -1100 .. 3900 HU; values outside fall in the end bins

/** One lesion's rule: which HU bins are ring-like, and how the HU is averaged before the lookup. */
export interface RingModel {
  ringLike: Uint8Array;
  smoothPx: number;
  keepNearPx: number;
}

/** The lesion's ring model on its HU box, or undefined without HU or with fewer than 5 core or ring pixels. */
export function ringModel(s: LesionStack, x: RingExclusion): RingModel | undefined {
  if (!s.boxHu) return undefined;
  const [w, h] = sliceBoxSize(s.boxHu.box);
  const sets = coreAndRing(s, boxMean(huSlice(s, s.record.keySlice), w, h, x.smoothPx), x.coreScale);
  if (!sets || sets.core.length < 5 || sets.ring.length < 5) return undefined;
  const core = density(sets.core, x.bandwidthHu);
  const ring = density(sets.ring, x.bandwidthHu);
  const peak = ring.reduce((a, b) => Math.max(a, b), 0);
  const ringLike = new Uint8Array(BINS);
  for (let b = 0; b < BINS; b++)
    ringLike[b] = ring[b] >= x.minRingShare * peak && ring[b] > x.ratio * core[b] ? 1 : 0;
  return { ringLike, smoothPx: x.smoothPx, keepNearPx: x.keepNearPx };
}

/** In place: clears the ring-like pixels of one slice's mask on the stack's HU box (`hu`: that slice's HU). */
export function excludeRingLike(mask: Uint8Array, hu: Float32Array, box: SliceBox, m: RingModel): void {
  const [w, h] = sliceBoxSize(box);
  const v = boxMean(hu, w, h, m.smoothPx);
  const ringLike = new Uint8Array(mask.length);
  const kept = new Uint8Array(mask.length);
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    ringLike[p] = m.ringLike[bin(v[p])];
    kept[p] = 1 - ringLike[p];
  }
  const near = m.keepNearPx > 0 ? dilateBox(kept, w, h, m.keepNearPx, m.keepNearPx) : undefined;
  for (let p = 0; p < mask.length; p++) if (ringLike[p] && !near?.[p]) mask[p] = 0;
}

function bin(v: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.floor((v - LO_HU) / BIN_HU)));
}

/** Gaussian-smoothed histogram of `values` on the HU bins, normalised to sum 1. */
function density(values: readonly number[], bandwidthHu: number): Float64Array {
  const hist = new Float64Array(BINS);
  for (const v of values) hist[bin(v)] += 1 / values.length;
  const sigma = bandwidthHu / BIN_HU;
  const r = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  const out = new Float64Array(BINS);
  for (let b = 0; b < BINS; b++) {
    if (!hist[b]) continue;
    for (let i = -r; i <= r; i++)
      if (b + i >= 0 && b + i < BINS) out[b + i] += (hist[b] * kernel[i + r]) / sum;
  }
  return out;
}

/** Box mean of half-width r (clipped at the edges); r <= 0 returns the input. */
function boxMean(a: Float32Array, w: number, h: number, r: number): Float32Array {
  if (r <= 0) return a;
  const out = new Float32Array(a.length);
  for (let j = 0; j < h; j++)
    for (let i = 0; i < w; i++) {
      let s = 0;
      let n = 0;
      for (let b = Math.max(0, j - r); b <= Math.min(h - 1, j + r); b++)
        for (let c = Math.max(0, i - r); c <= Math.min(w - 1, i + r); c++) {
          s += a[c + w * b];
          n++;
        }
      out[i + w * j] = s / n;
    }
  return out;
}
