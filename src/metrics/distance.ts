/**
 * Exact Euclidean distance transforms on anisotropic grids (Felzenszwalb & Huttenlocher 2012,
 * "Distance Transforms of Sampled Functions"): O(n) per axis, so O(voxels) overall, never O(n^2).
 * Arrays are indexed i fastest: index = i + ni * (j + nj * k), like Volume.data.
 */
import type { Vec3 } from '../types/volume.js';

/**
 * Squared distance in mm^2 from every voxel to the nearest voxel with `features[v] !== 0`.
 * Every value is +Infinity when there is no feature voxel at all.
 */
export function squaredDistanceMm2(features: ArrayLike<number>, size: Vec3, spacingMm: Vec3): Float64Array {
  const [ni, nj, nk] = size;
  const n = ni * nj * nk;
  if (features.length !== n) {
    throw new RangeError(
      `squaredDistanceMm2: expected ${n} voxels for size ${size.join('x')}, got ${features.length}`,
    );
  }
  const d = new Float64Array(n);
  for (let v = 0; v < n; v++) d[v] = features[v] !== 0 ? 0 : Infinity;
  const maxLen = Math.max(ni, nj, nk);
  const scratch = {
    f: new Float64Array(maxLen),
    out: new Float64Array(maxLen),
    v: new Int32Array(maxLen),
    z: new Float64Array(maxLen + 1),
  };
  const strides = [1, ni, ni * nj];
  for (let axis = 0; axis < 3; axis++) {
    const len = size[axis];
    const stride = strides[axis];
    if (len <= 1) continue;
    forEachLineStart(size, axis, (start) => {
      for (let q = 0; q < len; q++) scratch.f[q] = d[start + q * stride];
      transform1d(len, spacingMm[axis], scratch);
      for (let q = 0; q < len; q++) d[start + q * stride] = scratch.out[q];
    });
  }
  return d;
}

/** Calls `fn` with the linear index of the first voxel of every line along `axis`. */
function forEachLineStart(size: Vec3, axis: number, fn: (start: number) => void): void {
  const [ni, nj, nk] = size;
  if (axis === 0) {
    for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) fn(ni * (j + nj * k));
  } else if (axis === 1) {
    for (let k = 0; k < nk; k++) for (let i = 0; i < ni; i++) fn(i + ni * nj * k);
  } else {
    for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) fn(i + ni * j);
  }
}

/**
 * 1D squared distance transform of the sampled function f over positions q * spacing:
 * out[p] = min_q ((p - q) * spacing)^2 + f[q]. Infinite f values are ignored (no parabola).
 */
function transform1d(
  len: number,
  spacing: number,
  buf: { f: Float64Array; out: Float64Array; v: Int32Array; z: Float64Array },
): void {
  const { f, out, v, z } = buf;
  let k = -1;
  for (let q = 0; q < len; q++) {
    if (f[q] === Infinity) continue;
    const xq = q * spacing;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    // Intersection of parabola q with the rightmost parabola of the envelope; z[0] = -Infinity stops the loop.
    let s: number;
    for (;;) {
      const xv = v[k] * spacing;
      s = (f[q] + xq * xq - (f[v[k]] + xv * xv)) / (2 * (xq - xv));
      if (s > z[k]) break;
      k--;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, len);
    return;
  }
  let j = 0;
  for (let p = 0; p < len; p++) {
    const xp = p * spacing;
    while (z[j + 1] < xp) j++;
    const dx = xp - v[j] * spacing;
    out[p] = dx * dx + f[v[j]];
  }
}

/**
 * Surface voxels of a binary mask: foreground voxels with at least one face neighbour (4 in 2D when
 * size[2] == 1, 6 in 3D) that is background or outside the grid.
 */
export function surfaceVoxels(mask: ArrayLike<number>, size: Vec3): Uint8Array {
  const [ni, nj, nk] = size;
  const out = new Uint8Array(ni * nj * nk);
  const plane = ni * nj;
  for (let k = 0; k < nk; k++) {
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++) {
        const v = i + ni * j + plane * k;
        if (mask[v] === 0) continue;
        const edge =
          i === 0 ||
          i === ni - 1 ||
          j === 0 ||
          j === nj - 1 ||
          mask[v - 1] === 0 ||
          mask[v + 1] === 0 ||
          mask[v - ni] === 0 ||
          mask[v + ni] === 0 ||
          (nk > 1 && (k === 0 || k === nk - 1 || mask[v - plane] === 0 || mask[v + plane] === 0));
        if (edge) out[v] = 1;
      }
    }
  }
  return out;
}
