/** A 2D point in voxel coordinates of one axial slice: [x, y] = [i, j]. */
export type PointIJ = [number, number];

/**
 * RECIST marks on one axial slice, in voxel coordinates of that slice (x = index i, y = index j).
 * `long` are the long-axis end points, `short` the short-axis end points.
 */
export interface Recist {
  long: [PointIJ, PointIJ];
  short: [PointIJ, PointIJ];
}

/** DeepLesion's coarse lesion types 1..8, -1 = unknown. */
export const DEEPLESION_CATEGORIES = {
  1: 'bone',
  2: 'abdomen',
  3: 'mediastinum',
  4: 'liver',
  5: 'lung',
  6: 'kidney',
  7: 'soft_tissue',
  8: 'pelvis',
  [-1]: 'unknown',
} as const satisfies Record<number, string>;

export type LesionCategory = (typeof DEEPLESION_CATEGORIES)[keyof typeof DEEPLESION_CATEGORIES];

export type Split = 'train' | 'val' | 'test';

/** One validated row of a lesion manifest (docs/manifest.md). Paths are absolute. */
export interface LesionRecord {
  lesionId: string;
  imagePath: string;
  /** 0-based index k of the RECIST slice. */
  keySlice: number;
  recist: Recist;
  category: LesionCategory;
  split?: Split | undefined;
  maskPath?: string | undefined;
  patientId?: string | undefined;
  studyDate?: string | undefined;
  /** Identity of the lesion across studies of one patient (follow-up pairing); optional. */
  trackId?: string | undefined;
  /** HU window [min, max]. */
  window?: [number, number] | undefined;
  /** 1-based row number in the manifest CSV (header = 1), for error messages. */
  row: number;
}
