/** A square ROI around one lesion on its RECIST slice and the geometry that maps it back (see geometry/roi). */
import type { Recist } from './recist.js';

export interface RoiGeometry {
  /** Slice size [ni, nj] in pixels. */
  sliceSize: [number, number];
  /** Continuous slice position of the ROI's outer corner, [x0, y0] (pixel centres are at integers). */
  cornerIJ: [number, number];
  /** Side length of the ROI in slice pixels (may be fractional). */
  sideVoxels: number;
  /** Side length of the resampled ROI in ROI pixels. */
  sizePx: number;
}

export interface Roi {
  geometry: RoiGeometry;
  /** Resampled HU values, sizePx * sizePx, u fastest. */
  hu: Float32Array;
  /** The same windowed to 0..255. */
  image: Uint8Array;
  /** The RECIST in continuous ROI pixel coordinates (pixel centres at integers). */
  recist: Recist;
  /** HU window used for `image`. */
  window: [number, number];
}
