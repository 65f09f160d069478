/**
 * A square region of interest around one lesion on its RECIST slice, resampled to a fixed working size, with
 * the geometry that maps a mask drawn on the ROI back onto the slice exactly.
 *
 * Coordinates: slice pixel (i, j) has its centre at continuous position (i, j) and covers [i-0.5, i+0.5].
 * The ROI covers [x0, x0 + side] x [y0, y0 + side] in those coordinates; ROI pixel (u, v) has its centre at
 * x0 + (u + 0.5) * side / sizePx (same for v and y).
 */
import { Recist3dError } from '../errors.js';
import type { LesionCategory, PointIJ, Recist } from '../types/recist.js';
import type { Roi, RoiGeometry } from '../types/roi.js';
import { resolveOptions } from '../util/options.js';

export type { Roi, RoiGeometry } from '../types/roi.js';

export interface RoiOptions {
  /** ROI side as a multiple of the larger side of the RECIST bounding box (the paper: 2). */
  scale?: number;
  /** Working size of the resampled square ROI in pixels. */
  sizePx?: number;
  /** Smallest ROI side in slice pixels, so that a tiny RECIST still gets some context. */
  minSideVoxels?: number;
  /** HU given to the part of the ROI outside the image when padMode is 'constant'. */
  padHu?: number;
  /**
   * How the ROI is filled beyond the image border: 'constant' (padHu: air, right for whole CT slices) or
   * 'reflect' (mirror image about the border pixels; right for crops such as the LIDC VOIs, whose
   * surroundings are tissue, not air, and where constant padding would dominate GrabCut's background model).
   */
  padMode?: 'constant' | 'reflect';
  /** HU window [min, max] mapped to 0..255; when absent, `categoryWindows[category]`. */
  window?: [number, number];
  /** Lesion category, for the default window. */
  category?: LesionCategory;
  /** The HU window of each category, used when `window` is absent. */
  categoryWindows?: Record<LesionCategory, [number, number]>;
}

/**
 * Per-category HU windows: lung as measured on LIDC (docs/experiments/history.md), bone, soft tissue for the
 * rest.
 */
export const DEFAULT_WINDOWS: Record<LesionCategory, [number, number]> = {
  lung: [-1000, 400],
  bone: [-500, 1300],
  abdomen: [-160, 240],
  mediastinum: [-160, 240],
  liver: [-160, 240],
  kidney: [-160, 240],
  soft_tissue: [-160, 240],
  pelvis: [-160, 240],
  unknown: [-160, 240],
};

const DEFAULTS = {
  scale: 2,
  sizePx: 128,
  minSideVoxels: 8,
  padHu: -1024,
  padMode: 'constant',
  window: DEFAULT_WINDOWS.unknown,
  category: 'unknown',
  categoryWindows: DEFAULT_WINDOWS,
} satisfies Required<RoiOptions>;

/** The four RECIST end points. */
export function recistPoints(r: Recist): PointIJ[] {
  return [r.long[0], r.long[1], r.short[0], r.short[1]];
}

/** The square ROI geometry for `recist` on a slice of `sliceSize` (no pixels touched). */
export function roiGeometry(
  recist: Recist,
  sliceSize: [number, number],
  options: RoiOptions = {},
): RoiGeometry {
  const o = resolveOptions(DEFAULTS, options);
  const pts = recistPoints(recist);
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const side = Math.max(o.minSideVoxels, o.scale * Math.max(maxX - minX, maxY - minY));
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  return { sliceSize, cornerIJ: [cx - side / 2, cy - side / 2], sideVoxels: side, sizePx: o.sizePx };
}

/** Slice position -> continuous ROI pixel position. */
export function sliceToRoi(g: RoiGeometry, p: PointIJ): PointIJ {
  const s = g.sideVoxels / g.sizePx;
  return [(p[0] - g.cornerIJ[0]) / s - 0.5, (p[1] - g.cornerIJ[1]) / s - 0.5];
}

/** Continuous ROI pixel position -> slice position. */
export function roiToSlice(g: RoiGeometry, p: PointIJ): PointIJ {
  const s = g.sideVoxels / g.sizePx;
  return [g.cornerIJ[0] + (p[0] + 0.5) * s, g.cornerIJ[1] + (p[1] + 0.5) * s];
}

export function recistToRoi(g: RoiGeometry, r: Recist): Recist {
  return {
    long: [sliceToRoi(g, r.long[0]), sliceToRoi(g, r.long[1])],
    short: [sliceToRoi(g, r.short[0]), sliceToRoi(g, r.short[1])],
  };
}

/**
 * Crops and resamples (bilinear, padding with `padHu`) the ROI around `recist` from one slice
 * (`slice` holds ni * nj HU values, i fastest). Throws E_RECIST_OUTSIDE when a RECIST point is off the slice.
 */
export function extractRoi(
  slice: ArrayLike<number>,
  sliceSize: [number, number],
  recist: Recist,
  options: RoiOptions = {},
): Roi {
  const o = resolveOptions(DEFAULTS, options);
  const [ni, nj] = sliceSize;
  for (const [x, y] of recistPoints(recist)) {
    if (!(x >= -0.5 && x <= ni - 0.5 && y >= -0.5 && y <= nj - 0.5)) {
      throw new Recist3dError(
        'E_RECIST_OUTSIDE',
        `RECIST point (${x}, ${y}) lies outside the ${ni}x${nj} slice`,
      );
    }
  }
  const window = options.window ?? o.categoryWindows[o.category] ?? DEFAULTS.window;
  const geometry = roiGeometry(recist, sliceSize, o);
  const n = o.sizePx;
  const hu = new Float32Array(n * n);
  const image = new Uint8Array(n * n);
  const inside = (i: number, j: number) => i >= 0 && j >= 0 && i < ni && j < nj;
  const at =
    o.padMode === 'reflect'
      ? (i: number, j: number) => slice[reflectIndex(i, ni) + ni * reflectIndex(j, nj)]
      : (i: number, j: number) => (inside(i, j) ? slice[i + ni * j] : o.padHu);
  const [lo, hi] = window;
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const [x, y] = roiToSlice(geometry, [u, v]);
      const i0 = Math.floor(x);
      const j0 = Math.floor(y);
      const fx = x - i0;
      const fy = y - j0;
      const val =
        (1 - fy) * ((1 - fx) * at(i0, j0) + fx * at(i0 + 1, j0)) +
        fy * ((1 - fx) * at(i0, j0 + 1) + fx * at(i0 + 1, j0 + 1));
      hu[u + n * v] = val;
      image[u + n * v] = Math.round(255 * Math.min(1, Math.max(0, (val - lo) / (hi - lo))));
    }
  }
  return { geometry, hu, image, recist: recistToRoi(geometry, recist), window };
}

/**
 * Maps a binary ROI mask back onto the slice: a slice pixel is foreground when at least half of its area is
 * covered by foreground ROI pixels (area majority; for a ROI coarser than the slice this is nearest
 * neighbour). Slice pixels outside the ROI are 0. Returns ni * nj values.
 */
export function roiMaskToSlice(roiMask: ArrayLike<number>, g: RoiGeometry): Uint8Array {
  const [ni, nj] = g.sliceSize;
  const n = g.sizePx;
  const s = g.sideVoxels / n;
  const out = new Uint8Array(ni * nj);
  const iRange = pixelRange(g.cornerIJ[0], g.sideVoxels, ni);
  const jRange = pixelRange(g.cornerIJ[1], g.sideVoxels, nj);
  const wx = iRange.map((i) => overlapWeights(i, g.cornerIJ[0], s, n));
  const wy = jRange.map((j) => overlapWeights(j, g.cornerIJ[1], s, n));
  for (let b = 0; b < jRange.length; b++) {
    for (let a = 0; a < iRange.length; a++) {
      let cover = 0;
      for (const [v, wv] of wy[b]) {
        for (const [u, wu] of wx[a]) if (roiMask[u + n * v] !== 0) cover += wu * wv;
      }
      // weights are in slice-pixel units, so a fully covered pixel has cover 1
      if (cover >= 0.5 - 1e-9) out[iRange[a] + ni * jRange[b]] = 1;
    }
  }
  return out;
}

/**
 * Samples a slice mask onto the ROI grid by nearest neighbour (the slice pixel containing each ROI pixel's
 * centre); ROI pixels outside the slice are 0. Inverse of roiMaskToSlice up to resampling.
 */
export function sliceMaskToRoi(sliceMask: ArrayLike<number>, g: RoiGeometry): Uint8Array {
  const [ni, nj] = g.sliceSize;
  const n = g.sizePx;
  const out = new Uint8Array(n * n);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const [x, y] = roiToSlice(g, [u, v]);
      const i = Math.floor(x + 0.5);
      const j = Math.floor(y + 0.5);
      if (i >= 0 && j >= 0 && i < ni && j < nj && sliceMask[i + ni * j] !== 0) out[u + n * v] = 1;
    }
  }
  return out;
}

/** Symmetric reflection of an index into 0..n-1 (-1 -> 0, -2 -> 1, n -> n-1), periodic for far indices. */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n;
  let r = ((i % period) + period) % period;
  if (r >= n) r = period - 1 - r;
  return r;
}

/** Slice pixel indices whose cells overlap [start, start + side], clipped to the image. */
function pixelRange(start: number, side: number, count: number): number[] {
  const first = Math.max(0, Math.ceil(start - 0.5));
  const last = Math.min(count - 1, Math.floor(start + side + 0.5 - 1e-9));
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(i);
  return out;
}

/** [roiIndex, overlap length in slice pixels] of the ROI cells overlapping slice cell [i-0.5, i+0.5]. */
function overlapWeights(i: number, start: number, s: number, n: number): [number, number][] {
  const a = (i - 0.5 - start) / s;
  const b = (i + 0.5 - start) / s;
  const out: [number, number][] = [];
  for (let u = Math.max(0, Math.floor(a)); u <= Math.min(n - 1, Math.ceil(b) - 1); u++) {
    const w = (Math.min(b, u + 1) - Math.max(a, u)) * s;
    if (w > 0) out.push([u, w]);
  }
  return out;
}
