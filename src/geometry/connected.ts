/**
 * Connected components on binary grids (i fastest). Used to keep the lesion component that touches the
 * RECIST marks, in 2D (8-connectivity) and 3D (26-connectivity).
 */

/**
 * Returns a copy of `mask` keeping only the components (of non-zero voxels) that contain at least one voxel
 * where `seed` is non-zero. `size` is [ni, nj] or [ni, nj, nk].
 */
export function keepComponentsTouching(mask: Uint8Array, seed: Uint8Array, size: number[]): Uint8Array {
  const [ni, nj, nk = 1] = size;
  const n = ni * nj * nk;
  const out = new Uint8Array(n);
  const starts: number[] = [];
  for (let p = 0; p < n; p++) if (seed[p] && mask[p]) starts.push(p);
  floodFill(mask, out, 1, starts, [ni, nj, nk]);
  return out;
}

/** Labels 8-connected components of a 2D mask; returns labels (0 = background) and the component count. */
export function labelComponents2d(
  mask: Uint8Array,
  ni: number,
  nj: number,
): { labels: Int32Array; count: number } {
  const labels = new Int32Array(ni * nj);
  let count = 0;
  for (let p = 0; p < ni * nj; p++) {
    if (!mask[p] || labels[p]) continue;
    floodFill(mask, labels, ++count, [p], [ni, nj, 1]);
  }
  return { labels, count };
}

/**
 * In place: gives `value` in `out` to every voxel of `mask` connected to one of `starts` (8-connectivity in 2D,
 * 26 in 3D) that `out` does not mark yet.
 */
function floodFill(
  mask: Uint8Array,
  out: Uint8Array | Int32Array,
  value: number,
  starts: readonly number[],
  [ni, nj, nk]: [number, number, number],
): void {
  const stack = new Int32Array(ni * nj * nk);
  let top = 0;
  for (const p of starts) {
    if (out[p]) continue;
    out[p] = value;
    stack[top++] = p;
  }
  const three = nk > 1;
  while (top > 0) {
    const p = stack[--top];
    const i = p % ni;
    const j = Math.floor(p / ni) % nj;
    const k = Math.floor(p / (ni * nj));
    for (let dk = three ? -1 : 0; dk <= (three ? 1 : 0); dk++) {
      const kk = k + dk;
      if (kk < 0 || kk >= nk) continue;
      for (let dj = -1; dj <= 1; dj++) {
        const jj = j + dj;
        if (jj < 0 || jj >= nj) continue;
        for (let di = -1; di <= 1; di++) {
          const ii = i + di;
          if (ii < 0 || ii >= ni) continue;
          const q = ii + ni * (jj + nj * kk);
          if (mask[q] && !out[q]) {
            out[q] = value;
            stack[top++] = q;
          }
        }
      }
    }
  }
}
