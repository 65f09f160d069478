import type { Mat3, Vec3 } from '../types/volume.js';

/** A 4x4 voxel-to-world matrix in row-major order (16 numbers; last row 0 0 0 1). */
export type Affine = number[];

/** The grid part of a Volume: enough to map voxel indices to world millimetres. */
export interface Grid {
  size: Vec3;
  spacingMm: Vec3;
  origin: Vec3;
  direction: Mat3;
}

/** world = direction * diag(spacingMm) * ijk + origin, as a row-major 4x4 matrix. */
export function affineFromGrid(g: Pick<Grid, 'spacingMm' | 'origin' | 'direction'>): Affine {
  const a: Affine = new Array<number>(16).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) a[r * 4 + c] = g.direction[r * 3 + c] * g.spacingMm[c];
    a[r * 4 + 3] = g.origin[r];
  }
  a[15] = 1;
  return a;
}

/**
 * Splits a voxel-to-world affine into spacing (column norms), direction (unit columns) and origin.
 * Returns the index of the first zero-length column as `badAxis` (spacing cannot be derived).
 */
export function gridFromAffine(a: Affine): {
  spacingMm: Vec3;
  origin: Vec3;
  direction: Mat3;
  badAxis?: number | undefined;
} {
  const spacingMm: Vec3 = [0, 0, 0];
  const direction: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  let badAxis: number | undefined;
  for (let c = 0; c < 3; c++) {
    const n = Math.hypot(a[c], a[4 + c], a[8 + c]);
    spacingMm[c] = n;
    if (!(n > 0) || !Number.isFinite(n)) {
      badAxis ??= c;
      continue;
    }
    for (let r = 0; r < 3; r++) direction[r * 3 + c] = a[r * 4 + c] / n;
  }
  return { spacingMm, origin: [a[3], a[7], a[11]], direction, badAxis };
}

/** True when two affines agree to within `tolMm` millimetres on every entry. */
export function affinesClose(a: Affine, b: Affine, tolMm = 1e-3): boolean {
  for (let i = 0; i < 12; i++) if (!(Math.abs(a[i] - b[i]) <= tolMm)) return false;
  return true;
}

/** World position (mm) of voxel ijk (fractional indices allowed). */
export function voxelToWorld(g: Pick<Grid, 'spacingMm' | 'origin' | 'direction'>, ijk: Vec3): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    out[r] =
      g.origin[r] +
      g.direction[r * 3] * g.spacingMm[0] * ijk[0] +
      g.direction[r * 3 + 1] * g.spacingMm[1] * ijk[1] +
      g.direction[r * 3 + 2] * g.spacingMm[2] * ijk[2];
  }
  return out;
}

/** The grid of a volume (drops data and meta). */
export function gridOf(v: Grid): Grid {
  return {
    size: [...v.size] as Vec3,
    spacingMm: [...v.spacingMm] as Vec3,
    origin: [...v.origin] as Vec3,
    direction: [...v.direction] as Mat3,
  };
}

/** Determinant of a row-major 3x3 matrix. */
export function det3(m: Mat3): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}
