/** A lesion's ROI stack: the key-slice ROI applied to every slice the lesion may reach (built by steps/1-roi-stacks). */
import type { Roi } from './roi.js';
import type { LesionRecord } from './recist.js';
import type { Volume } from './volume.js';

export interface LesionStack {
  record: LesionRecord;
  /** Image grid facts needed to write masks back (the voxel data is not kept). */
  image: Pick<Volume, 'size' | 'spacingMm' | 'origin' | 'direction' | 'meta'>;
  /** ROI on the key slice (geometry, RECIST in ROI coordinates, window). */
  keyRoi: Roi;
  /** Smallest and largest slice index in the stack. */
  kMin: number;
  kMax: number;
  /** Windowed 8-bit ROI images, one per slice kMin..kMax, roiSize^2 each. */
  images: Uint8Array[];
  /**
   * HNN-SR (`--sr`): the stacked GAN's denoised (G1) and enhanced (G2 on G1's output, zoom 1) version of each
   * image, 8-bit like `images` (src/sr/stack-channels.ts). Absent without SR.
   */
  srDenoised?: Uint8Array[];
  srEnhanced?: Uint8Array[];
  longMm: number;
  shortMm: number;
  /**
   * CT values (HU) under the key ROI's slice box (`roiBoxOnSlice`) on slices kMin..kMax, i fastest, then j, then
   * slice: what HU exclusion of the final masks reads. Absent on stacks built without the volume's values.
   */
  boxHu?: { box: [number, number, number, number]; data: Float32Array };
}

export function stackImage(s: LesionStack, k: number): Uint8Array | undefined {
  return k < s.kMin || k > s.kMax ? undefined : s.images[k - s.kMin];
}
