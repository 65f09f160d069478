/**
 * Final 3D masks: the model is applied slice by slice through each lesion's ROI stack, probabilities are
 * projected onto the CT grid, and the 3D (26-connected) component touching the key-slice RECIST is kept, so
 * the mask stops where the lesion ends (the first slice without foreground). Optional CNN-GC refines every
 * slice with GrabCut on a trimap from the CNN output.
 */
import type { SegNet } from '../model/binding.js';
import { recistFromMask } from '../recist/from-mask.js';
import { grabCutSquares, nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { trimapFromCnn, type CnnTrimapOptions } from '../trimap/from-cnn.js';
import { trimapCounts } from '../trimap/labels.js';
import { dilateBox } from '../trimap/raster.js';
import type { Mask, Vec3 } from '../types/volume.js';
import { keepComponentsTouching } from './connected.js';
import { estimatedRoiRecist } from './harvest.js';
import { predictSlices } from './infer.js';
import { roiBoxOnSlice, roiToSliceBox } from './project.js';
import type { LesionStack } from './stack.js';

export interface Segment3dOptions {
  /** Probability threshold on the CT grid. */
  threshold?: number;
  /** Lowest threshold tried on the key slice when the mask covers too little of the RECIST axes. */
  minKeyThreshold?: number;
  /**
   * Fraction of the RECIST axes' pixels the key-slice mask must cover: the threshold there is lowered (down
   * to `minKeyThreshold`) until it does. The axes end on the lesion's edge, so a mask should cover them.
   */
  keyAxisCoverage?: number;
  /** CNN-GC: refine each slice with GrabCut initialised from the CNN trimap. */
  gc?: boolean;
  /** GrabCut iterations for CNN-GC. */
  iterations?: number;
  /** Zero slices more than this many slices beyond where the estimated RECIST vanishes (-1 = no clamp). */
  clampBeyondEstimate?: number;
  /**
   * Going outward from the key slice, each slice's mask must lie within the previous slice's mask grown by
   * this many mm (lesions narrow towards their ends; a leak along a neighbouring structure widens); -1 = off.
   */
  nestMm?: number;
  /** The lesion's estimated half-extent in z as a fraction of L/2 (the Pythagorean rule's 1), for the clamp. */
  zExtent?: number;
  /**
   * Outward from the key slice, the lesion ends at the first slice whose confidence is below this fraction of
   * the key slice's (past a lesion's tip the CNN is less sure of what it marks); 0 = off. A slice's confidence
   * is the mean probability of its mask's pixels at or above `threshold`, so a key threshold lowered by
   * `keyAxisCoverage` does not lower the key slice's.
   */
  endConfidence?: number;
  cnnTrimap?: CnnTrimapOptions;
  /** Test-time augmentation: average the CNN maps over the four flips of each slice (4x inference). */
  tta?: boolean;
}

export const SEGMENT3D_DEFAULTS = {
  threshold: 0.5,
  minKeyThreshold: 0.1,
  keyAxisCoverage: 0.9,
  gc: false,
  iterations: 5,
  clampBeyondEstimate: 1,
  zExtent: 1,
  nestMm: 1,
  endConfidence: 0.9,
  cnnTrimap: {},
  tta: false,
} satisfies Required<Segment3dOptions>;

/** A lesion mask stored as its bounding crop on the CT grid. */
export interface CropMask {
  /** First voxel of the crop [i0, j0, k0] and its size [w, h, d]. */
  start: Vec3;
  size: Vec3;
  data: Uint8Array;
}

export interface Lesion3dResult {
  lesionId: string;
  mask: CropMask;
  voxels: number;
  volumeMm3: number;
  /** First and last slice with foreground (NaN when empty). */
  sliceRange: [number, number];
  /** Auto-RECIST of the 3D mask (reader-style, on its largest slice), NaN when not measurable. */
  autoLongMm: number;
  autoShortMm: number;
  flags: {
    empty: boolean;
    touchesRoiBorder: boolean;
    keyThresholdLowered: boolean;
    /** The confidence rule (`endConfidence`) ended the lesion before the CNN's mask did. */
    endedByConfidence: boolean;
  };
  /** The projected per-voxel maps on the crop grid (same layout as `mask.data`), before thresholding. */
  prob: Float32Array;
}

/** Segments one lesion in 3D with the CNN (and CNN-GC when `gc`). */
export async function segmentLesion3d(
  net: SegNet,
  s: LesionStack,
  options: Segment3dOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<Lesion3dResult> {
  const o = { ...SEGMENT3D_DEFAULTS, ...options };
  const ks = stackSlices(s);
  let maps = await predictSlices(
    net,
    ks.map((k) => ({ stack: s, k })),
    { tta: o.tta },
  );
  if (o.gc) maps = await refineWithGrabCut(s, ks, maps, o, engine);
  return assembleLesion3d(s, maps, o);
}

/** The slice indices of a stack, kMin..kMax. */
export function stackSlices(s: LesionStack): number[] {
  const ks: number[] = [];
  for (let k = s.kMin; k <= s.kMax; k++) ks.push(k);
  return ks;
}

/**
 * Turns per-slice ROI maps (probabilities or 0/1 masks, one per stack slice kMin..kMax) into the lesion's 3D
 * mask on the CT grid: bilinear projection, threshold, the component touching the key RECIST, QC facts.
 */
export function assembleLesion3d(
  s: LesionStack,
  maps: Float32Array[],
  options: Segment3dOptions = {},
): Lesion3dResult {
  const o = { ...SEGMENT3D_DEFAULTS, ...options };
  const g = s.keyRoi.geometry;
  const ks = stackSlices(s);
  const box = roiBoxOnSlice(g);
  const [i0, j0, i1, j1] = box;
  const w = i1 - i0 + 1;
  const h = j1 - j0 + 1;
  const d = ks.length;
  const plane = w * h;
  const binary = new Uint8Array(plane * d);
  const probCrop = new Float32Array(plane * d);
  const seed = new Uint8Array(plane * d);
  const keyIdx = s.record.keySlice - s.kMin;
  drawAxes(seed.subarray(keyIdx * plane, (keyIdx + 1) * plane), s, box);
  let keyThresholdLowered = false;
  ks.forEach((k, z) => {
    const prob = roiToSliceBox(maps[z], g, box);
    probCrop.set(prob, z * plane);
    let t = o.threshold;
    if (z === keyIdx) {
      const axes = seed.subarray(z * plane, (z + 1) * plane);
      // steps of 0.05, never below minKeyThreshold (the epsilon absorbs the steps' rounding)
      while (coverage(prob, axes, t) < o.keyAxisCoverage && t - 0.05 >= o.minKeyThreshold - 1e-9) t -= 0.05;
      keyThresholdLowered = t < o.threshold;
    }
    for (let p = 0; p < plane; p++) binary[z * plane + p] = prob[p] >= t ? 1 : 0;
    if (o.clampBeyondEstimate >= 0 && beyondEstimate(s, k, o.clampBeyondEstimate, o.zExtent))
      binary.fill(0, z * plane, (z + 1) * plane);
  });
  if (o.nestMm >= 0) nestOutward(binary, [w, h, d], keyIdx, o.nestMm, s.image.spacingMm);
  const kept = keepComponentsTouching(binary, seed, [w, h, d]);
  const endedByConfidence =
    o.endConfidence > 0 && endAtUnsureSlice(kept, probCrop, [w, h, d], keyIdx, o.endConfidence, o.threshold);
  const spacing = s.image.spacingMm;
  let voxels = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  let touches = false;
  for (let z = 0; z < d; z++) {
    let any = false;
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        if (!kept[z * plane + i + w * j]) continue;
        voxels++;
        any = true;
        if (i === 0 || j === 0 || i === w - 1 || j === h - 1) touches = true;
      }
    }
    if (any) {
      if (Number.isNaN(first)) first = ks[z];
      last = ks[z];
    }
  }
  const mask: CropMask = { start: [i0, j0, s.kMin], size: [w, h, d], data: kept };
  let autoLongMm = Number.NaN;
  let autoShortMm = Number.NaN;
  if (voxels > 0) {
    try {
      const m: Mask = {
        size: [w, h, d],
        spacingMm: spacing,
        origin: [0, 0, 0],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        data: kept,
        meta: {},
      };
      const r = recistFromMask(m);
      autoLongMm = r.longMm;
      autoShortMm = r.shortMm;
    } catch {
      // a one-pixel-wide mask has no measurable short axis: leave NaN
    }
  }
  return {
    lesionId: s.record.lesionId,
    mask,
    voxels,
    volumeMm3: voxels * spacing[0] * spacing[1] * spacing[2],
    sliceRange: [first, last],
    autoLongMm,
    autoShortMm,
    flags: { empty: voxels === 0, touchesRoiBorder: touches, keyThresholdLowered, endedByConfidence },
    prob: probCrop,
  };
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

/** In place: from the key slice outward, slice z keeps only pixels within `mm` of slice z -/+ 1's mask. */
function nestOutward(binary: Uint8Array, size: Vec3, keyIdx: number, mm: number, spacingMm: Vec3): void {
  const [w, h, d] = size;
  const plane = w * h;
  const rx = Math.floor(mm / spacingMm[0]);
  const ry = Math.floor(mm / spacingMm[1]);
  for (const dir of [-1, 1]) {
    for (let z = keyIdx + dir; z >= 0 && z < d; z += dir) {
      const grown = dilateBox(binary.subarray((z - dir) * plane, (z - dir + 1) * plane), w, h, rx, ry);
      const cur = binary.subarray(z * plane, (z + 1) * plane);
      for (let p = 0; p < plane; p++) if (!grown[p]) cur[p] = 0;
    }
  }
}

/**
 * In place: outward from the key slice, clears the first slice whose confidence (the mean probability of its
 * mask's pixels at or above `threshold`) is below `ratio` times the key slice's, and every slice beyond it.
 * Returns whether it cleared anything.
 */
function endAtUnsureSlice(
  mask: Uint8Array,
  prob: Float32Array,
  size: Vec3,
  keyIdx: number,
  ratio: number,
  threshold: number,
): boolean {
  const plane = size[0] * size[1];
  const d = size[2];
  const meanProb = (z: number) => {
    let n = 0;
    let sum = 0;
    for (let p = z * plane; p < (z + 1) * plane; p++) {
      if (!mask[p] || prob[p] < threshold) continue;
      n++;
      sum += prob[p];
    }
    return n ? sum / n : Number.NaN;
  };
  const key = meanProb(keyIdx);
  if (Number.isNaN(key)) return false;
  let cleared = false;
  for (const dir of [-1, 1]) {
    for (let z = keyIdx + dir; z >= 0 && z < d; z += dir) {
      const m = meanProb(z);
      if (Number.isNaN(m)) break;
      if (m < ratio * key) {
        const [a, b] = dir > 0 ? [z, d] : [0, z + 1];
        mask.fill(0, a * plane, b * plane);
        cleared = true;
        break;
      }
    }
  }
  return cleared;
}

/**
 * True when slice k lies more than `margin` slices beyond the lesion's estimated end: the Pythagorean rule
 * ends it at |dz| = L/2 (`zExtent` 1); `zExtent` < 1 ends it sooner.
 */
function beyondEstimate(s: LesionStack, k: number, margin: number, zExtent: number): boolean {
  const dir = Math.sign(k - s.record.keySlice);
  if (dir === 0) return false;
  for (let m = 0; m <= margin; m++) if (estimatedRoiRecist(s, k - dir * m, zExtent)) return false;
  return true;
}

/** Rasterises the key RECIST axes onto the crop box of the slice. */
function drawAxes(out: Uint8Array, s: LesionStack, box: [number, number, number, number]): void {
  const [i0, j0, i1] = box;
  const w = i1 - i0 + 1;
  const h = out.length / w;
  for (const [a, b] of [s.record.recist.long, s.record.recist.short]) {
    const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) * 2));
    for (let t = 0; t <= steps; t++) {
      const i = Math.round(a[0] + ((b[0] - a[0]) * t) / steps) - i0;
      const j = Math.round(a[1] + ((b[1] - a[1]) * t) / steps) - j0;
      if (i >= 0 && j >= 0 && i < w && j < h) out[i + w * j] = 1;
    }
  }
}

/** CNN-GC: GrabCut from the CNN trimap on every slice where the estimated RECIST exists. */
async function refineWithGrabCut(
  s: LesionStack,
  ks: number[],
  maps: Float32Array[],
  o: Required<Segment3dOptions>,
  engine: GrabCutFn,
): Promise<Float32Array[]> {
  const n = s.keyRoi.geometry.sizePx;
  const idx: number[] = [];
  const trimaps = ks.map((k, z) => {
    const r = estimatedRoiRecist(s, k);
    if (!r) return undefined;
    idx.push(z);
    return trimapFromCnn(maps[z], n, r, o.cnnTrimap);
  });
  const jobs = idx.map((z) => ({ image: s.images[z], trimap: trimaps[z]!.trimap }));
  const gc = await grabCutSquares(jobs, n, o.iterations, engine);
  const out = maps.slice();
  idx.forEach((z, m) => {
    const t = trimaps[z]!;
    const kept = gc.masks[m].reduce((a, b) => a + b, 0);
    // keep the CNN answer when GrabCut failed or kept (almost) nothing
    if (gc.status[m] !== 0 || kept < trimapCounts(t.trimap).fg) return;
    out[z] = Float32Array.from(keepComponentsTouching(gc.masks[m], t.axes, [n, n]));
  });
  return out;
}

/** Writes a crop mask into a full-grid volume buffer. */
export function cropToFull(mask: CropMask, size: Vec3): Uint8Array {
  const [ni, nj] = size;
  const out = new Uint8Array(size[0] * size[1] * size[2]);
  const [i0, j0, k0] = mask.start;
  const [w, h, d] = mask.size;
  for (let z = 0; z < d; z++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++)
        if (mask.data[i + w * (j + h * z)]) out[i0 + i + ni * (j0 + j + nj * (k0 + z))] = 1;
  return out;
}

/** Cuts the crop of `mask` (start and size) out of a full-grid volume buffer. */
export function fullToCrop(full: ArrayLike<number>, size: Vec3, start: Vec3, cropSize: Vec3): Uint8Array {
  const [ni, nj, nk] = size;
  const [w, h, d] = cropSize;
  const out = new Uint8Array(w * h * d);
  for (let z = 0; z < d; z++) {
    const k = start[2] + z;
    if (k < 0 || k >= nk) continue;
    for (let j = 0; j < h; j++) {
      const jj = start[1] + j;
      if (jj < 0 || jj >= nj) continue;
      for (let i = 0; i < w; i++) {
        const ii = start[0] + i;
        if (ii >= 0 && ii < ni && full[ii + ni * (jj + nj * k)]) out[i + w * (j + h * z)] = 1;
      }
    }
  }
  return out;
}
