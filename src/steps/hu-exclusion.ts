/**
 * HU exclusion: voxels whose CT value cannot belong to the lesion leave its mask. The plausible range comes from
 * the lesion itself (the inner half of the RECIST ellipse on the key slice), widened to fixed bounds, so a
 * calcified or fatty lesion keeps its own values: bone cortex next to a sarcoma and lung air around a nodule go,
 * while air voxels within `airNearMm` of tissue stay (partial volume at a nodule's edge).
 */
import { rasterizeEllipse } from '../trimap/raster.js';
import { dilateBox } from '../trimap/raster.js';
import { roiToSliceBox, sliceBoxSize, type SliceBox } from '../geometry/roi-project.js';
import type { LesionStack } from '../types/stack.js';

export interface HuExclusion {
  /** Voxels darker than min(airHu, core p10 - margin) leave the mask. */
  airHu: number;
  /** Voxels brighter than max(brightHu, core p90 + margin) leave the mask. */
  brightHu: number;
  /** HU added beyond the core's 10th and 90th percentiles. */
  margin: number;
  /** Dark voxels within this many mm of kept tissue stay (partial volume); negative = none stay. */
  airNearMm: number;
}

export interface HuExclusionOptions {
  /** HU exclusion of the final masks; null = off. */
  huExclusion?: HuExclusion | null;
}

export const HU_EXCLUSION_DEFAULTS = {
  huExclusion: { airHu: -400, brightHu: 250, margin: 200, airNearMm: 1 },
} satisfies Required<HuExclusionOptions>;

/** The lesion's plausible HU range [lo, hi], or undefined when off or the stack has no HU. */
export function huRange(s: LesionStack, x: HuExclusion | null): [number, number] | undefined {
  const core = x ? coreHuRange(s) : undefined;
  if (!x || !core) return undefined;
  return [Math.min(x.airHu, core[0] - x.margin), Math.max(x.brightHu, core[1] + x.margin)];
}

/**
 * The 10th and 90th percentile of the HU in the lesion's core, the inner half of the RECIST ellipse on the key
 * slice (certainly lesion); undefined when the stack has no HU or the core no pixel.
 */
export function coreHuRange(s: LesionStack): [number, number] | undefined {
  if (!s.boxHu) return undefined;
  const core = keyEllipseOnHuBox(s, 0.5);
  const hu = huSlice(s, s.record.keySlice);
  const vals: number[] = [];
  for (let p = 0; p < hu.length; p++) if (core[p] >= 0.5) vals.push(hu[p]);
  if (!vals.length) return undefined;
  vals.sort((a, b) => a - b);
  return [vals[Math.floor(0.1 * (vals.length - 1))], vals[Math.floor(0.9 * (vals.length - 1))]];
}

/**
 * The key slice's RECIST ellipse scaled by `scale`, projected onto the stack's HU box (`s.boxHu.box`):
 * a pixel is inside where the value is >= 0.5.
 */
export function keyEllipseOnHuBox(s: LesionStack, scale: number): Float32Array {
  const g = s.keyRoi.geometry;
  return roiToSliceBox(
    Float32Array.from(rasterizeEllipse(s.keyRoi.recist, g.sizePx, scale)),
    g,
    s.boxHu!.box,
  );
}

/** The HU of stack slice k on the stack's HU box (`s.boxHu.box`). */
export function huSlice(s: LesionStack, k: number): Float32Array {
  const b = s.boxHu!;
  const [w, h] = sliceBoxSize(b.box);
  const plane = w * h;
  return b.data.subarray((k - s.kMin) * plane, (k - s.kMin + 1) * plane);
}

/**
 * In place: clears the pixels of one slice's mask on `box` (the stack's HU box) whose HU lies outside `range`,
 * except dark pixels within `airNearMm` of kept tissue.
 */
export function excludeByHu(
  mask: Uint8Array,
  hu: Float32Array,
  box: SliceBox,
  range: [number, number],
  airNearMm: number,
  spacingMm: readonly number[],
): void {
  const [lo, hi] = range;
  const [w, h] = sliceBoxSize(box);
  let nearTissue: Uint8Array | undefined;
  if (airNearMm >= 0) {
    const tissue = new Uint8Array(mask.length);
    for (let p = 0; p < mask.length; p++) tissue[p] = mask[p] && hu[p] >= lo && hu[p] <= hi ? 1 : 0;
    nearTissue = dilateBox(
      tissue,
      w,
      h,
      Math.floor(airNearMm / spacingMm[0]),
      Math.floor(airNearMm / spacingMm[1]),
    );
  }
  for (let p = 0; p < mask.length; p++) {
    if (!mask[p]) continue;
    const v = hu[p];
    if (v > hi || (v < lo && !nearTissue?.[p])) mask[p] = 0;
  }
}
