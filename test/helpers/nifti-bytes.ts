/**
 * Hand-made NIfTI-1 bytes for tests of bad input: a valid little-endian single-file header for a volume, then
 * any header field patched through a DataView before the voxels are appended.
 */
import { niftiHeaderFor } from '../../src/io/nifti.js';
import { writeNiftiHeader } from '../../src/io/nifti-header.js';
import type { Vec3, Volume, VoxelData } from '../../src/types/volume.js';

/** Header byte offsets of the fields the tests patch (NIfTI-1 standard). */
export const NIFTI_OFFSETS = {
  dim: 40,
  datatype: 70,
  bitpix: 72,
  pixdim: 76,
  voxOffset: 108,
  sclSlope: 112,
  sclInter: 116,
  qformCode: 252,
  sformCode: 254,
  srowX: 280,
  srowY: 296,
  srowZ: 312,
} as const;

/** A small volume on a plain grid (0.8 x 0.8 x 2.5 mm, identity direction). */
export function plainVolume<T extends VoxelData>(data: T, size: Vec3): Volume<T> {
  return {
    size,
    spacingMm: [0.8, 0.8, 2.5],
    origin: [1, 2, 3],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data,
    meta: {},
  };
}

/**
 * Header (352 bytes) + `gap` zero bytes + the voxels of `vol`, after `patch` edited the header.
 * With `gap` the voxels start at 352 + gap (set vox_offset accordingly in `patch`).
 */
export function niftiBytes(vol: Volume, patch: (v: DataView) => void = () => {}, gap = 0): Buffer {
  const header = writeNiftiHeader(niftiHeaderFor(vol));
  patch(new DataView(header.buffer, header.byteOffset, header.byteLength));
  const body = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  return Buffer.concat([header, Buffer.alloc(gap), body]);
}
