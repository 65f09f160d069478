/**
 * Step 5 of WSSS (paper section 3.3, "3D segmentation"): the final 3D mask of every lesion. The last model is
 * applied slice by slice through the lesion's ROI stack (cnn-maps: optionally CNN-GC and flip TTA), the maps
 * are projected bilinearly onto the CT grid, the RECIST slice gets the shared key-slice mask (key-slice.ts),
 * the other slices a fixed threshold, and the 3D (26-connected) component touching the RECIST is kept. Going
 * outward from the key slice the mask is nested (each slice within the previous one grown by `nestMm`), and
 * the lesion ends at the first empty slice, at the first slice whose confidence falls below `endConfidence`
 * times the key slice's, and at most `clampBeyondEstimate` slices past the estimated RECIST's z extent.
 */
import { keepComponentsTouching } from '../geometry/connected.js';
import type { CropMask } from '../geometry/crop-mask.js';
import { roiBoxOnSlice, roiToSliceBox, sliceBoxSize, type SliceBox } from '../geometry/roi-project.js';
import type { SegNet } from '../model/binding.js';
import { nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';
import { recistFromMask } from '../recist/from-mask.js';
import { dilateBox } from '../trimap/raster.js';
import type { LesionStack } from '../types/stack.js';
import type { Mask, Vec3 } from '../types/volume.js';
import { resolveOptions } from '../util/options.js';
import { CNN_MAP_DEFAULTS, cnnMaps, type CnnMapOptions } from './cnn-maps.js';
import {
  KEY_SLICE_DEFAULTS,
  keySliceMask,
  lesionRules,
  sliceWithRules,
  type KeySliceOptions,
} from './key-slice.js';

export interface Segment3dOptions extends KeySliceOptions, CnnMapOptions {
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
}

export const SEGMENT3D_DEFAULTS = {
  ...KEY_SLICE_DEFAULTS,
  ...CNN_MAP_DEFAULTS,
  clampBeyondEstimate: 1,
  zExtent: 1,
  nestMm: 1,
  endConfidence: 0.8,
} satisfies Required<Segment3dOptions>;

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
  const o = resolveOptions(SEGMENT3D_DEFAULTS, options);
  const refs = stackSlices(s).map((k) => ({ stack: s, k }));
  const { maps } = await cnnMaps(net, refs, o, engine);
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
 * mask on the CT grid: bilinear projection, thresholds, the component touching the key RECIST, QC facts.
 */
export function assembleLesion3d(
  s: LesionStack,
  maps: Float32Array[],
  options: Segment3dOptions = {},
): Lesion3dResult {
  const o = resolveOptions(SEGMENT3D_DEFAULTS, options);
  const t = thresholdSlices(s, maps, o);
  const { size, keyIdx } = t;
  if (o.nestMm >= 0) nestOutward(t.binary, size, keyIdx, o.nestMm, s.image.spacingMm);
  const kept = keepComponentsTouching(t.binary, t.seed, size);
  const endedByConfidence =
    o.endConfidence > 0 && endAtUnsureSlice(kept, t.prob, size, keyIdx, o.endConfidence, o.threshold);
  const facts = maskFacts(kept, size, s.kMin);
  const spacing = s.image.spacingMm;
  const auto =
    facts.voxels > 0 ? autoRecist(kept, size, spacing) : { longMm: Number.NaN, shortMm: Number.NaN };
  return {
    lesionId: s.record.lesionId,
    mask: { start: [t.box[0], t.box[1], s.kMin], size, data: kept },
    voxels: facts.voxels,
    volumeMm3: facts.voxels * spacing[0] * spacing[1] * spacing[2],
    sliceRange: facts.sliceRange,
    autoLongMm: auto.longMm,
    autoShortMm: auto.shortMm,
    flags: {
      empty: facts.voxels === 0,
      touchesRoiBorder: facts.touchesBorder,
      keyThresholdLowered: t.keyThresholdLowered,
      endedByConfidence,
    },
    prob: t.prob,
  };
}

interface ThresholdedSlices {
  /** The crop box on the slice grid and the crop's size [w, h, d]. */
  box: SliceBox;
  size: Vec3;
  keyIdx: number;
  /** Projected maps, thresholded masks and the RECIST axes (key slice only), all on the crop. */
  prob: Float32Array;
  binary: Uint8Array;
  seed: Uint8Array;
  keyThresholdLowered: boolean;
}

/** Projects every slice's map onto the crop; the key slice gets the key-slice mask, the others `threshold`. */
function thresholdSlices(
  s: LesionStack,
  maps: Float32Array[],
  o: Required<Segment3dOptions>,
): ThresholdedSlices {
  const g = s.keyRoi.geometry;
  const ks = stackSlices(s);
  const box = roiBoxOnSlice(g);
  const size: Vec3 = [...sliceBoxSize(box), ks.length];
  const plane = size[0] * size[1];
  const binary = new Uint8Array(plane * size[2]);
  const prob = new Float32Array(plane * size[2]);
  const seed = new Uint8Array(plane * size[2]);
  const keyIdx = s.record.keySlice - s.kMin;
  let keyThresholdLowered = false;
  const rules = lesionRules(s, box, o);
  ks.forEach((k, z) => {
    const p = roiToSliceBox(maps[z], g, box);
    prob.set(p, z * plane);
    if (z === keyIdx) {
      const key = keySliceMask(p, s, box, o, rules);
      seed.set(key.axes, z * plane);
      binary.set(key.mask, z * plane);
      keyThresholdLowered = key.lowered;
    } else {
      binary.set(sliceWithRules(p, s, k, box, o.threshold, rules), z * plane);
    }
    if (o.clampBeyondEstimate >= 0 && beyondEstimate(s, k, o.clampBeyondEstimate, o.zExtent))
      binary.fill(0, z * plane, (z + 1) * plane);
  });
  return { box, size, keyIdx, prob, binary, seed, keyThresholdLowered };
}

/** Voxel count, first and last slice with foreground (NaN when empty), and whether it touches the crop's side. */
function maskFacts(kept: Uint8Array, size: Vec3, kMin: number) {
  const [w, h, d] = size;
  let voxels = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  let touchesBorder = false;
  for (let z = 0; z < d; z++) {
    let any = false;
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        if (!kept[i + w * (j + h * z)]) continue;
        voxels++;
        any = true;
        if (i === 0 || j === 0 || i === w - 1 || j === h - 1) touchesBorder = true;
      }
    }
    if (any) {
      if (Number.isNaN(first)) first = kMin + z;
      last = kMin + z;
    }
  }
  return { voxels, sliceRange: [first, last] as [number, number], touchesBorder };
}

/** The reader-style RECIST of a 3D mask (on its largest slice); NaN when not measurable. */
function autoRecist(data: Uint8Array, size: Vec3, spacingMm: Vec3): { longMm: number; shortMm: number } {
  const m: Mask = {
    size,
    spacingMm,
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data,
    meta: {},
  };
  try {
    const r = recistFromMask(m);
    return { longMm: r.longMm, shortMm: r.shortMm };
  } catch {
    // a one-pixel-wide mask has no measurable short axis
    return { longMm: Number.NaN, shortMm: Number.NaN };
  }
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
