/** Plain-data types shared by every module. Coordinates are tuples; names carry units. */

export type Vec3 = [number, number, number];
/** Row-major 3x3 direction cosines: columns are the i, j, k axes in patient (LPS or RAS as read) space. */
export type Mat3 = [number, number, number, number, number, number, number, number, number];

export type VoxelData = Int16Array | Uint8Array | Float32Array;

/**
 * A 3D image on a regular grid. `data` is indexed i fastest: index = i + ni * (j + nj * k).
 * For CT the values are Hounsfield units; masks use Uint8Array with 0/1.
 */
export interface Volume<T extends VoxelData = VoxelData> {
  size: Vec3;
  spacingMm: Vec3;
  /** Position of voxel (0,0,0) in mm (world space of the source file). */
  origin: Vec3;
  direction: Mat3;
  data: T;
  /** Free-form metadata: source file, description, NIfTI affine, etc. */
  meta: Record<string, unknown>;
}

export type Mask = Volume<Uint8Array>;

export const IDENTITY_DIRECTION: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function voxelCount(size: Vec3): number {
  return size[0] * size[1] * size[2];
}
