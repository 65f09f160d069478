/**
 * A lesion mask kept as its bounding crop on the CT grid, and the two copies between a crop and the full grid
 * (i fastest, then j, then k).
 */
import type { Vec3 } from '../types/volume.js';

/** A lesion mask stored as its bounding crop on the CT grid. */
export interface CropMask {
  /** First voxel of the crop [i0, j0, k0] and its size [w, h, d]. */
  start: Vec3;
  size: Vec3;
  data: Uint8Array;
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
