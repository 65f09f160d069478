/**
 * Contours of a binary mask slice as pixel-edge segments: every edge between a pixel inside and one outside
 * (or the border). Coordinates are voxel corners, so a pixel (i, j) spans [i - 0.5, i + 0.5] x [j - 0.5, j + 0.5].
 */
export type Segment = [number, number, number, number];

export function maskEdges(bits: Uint8Array, ni: number, nj: number, offset: number, bit: number): Segment[] {
  const inside = (i: number, j: number) =>
    i >= 0 && j >= 0 && i < ni && j < nj && (bits[offset + i + ni * j] & bit) !== 0;
  const out: Segment[] = [];
  for (let j = 0; j < nj; j++) {
    for (let i = 0; i < ni; i++) {
      if (!inside(i, j)) continue;
      const x0 = i - 0.5;
      const y0 = j - 0.5;
      if (!inside(i - 1, j)) out.push([x0, y0, x0, y0 + 1]);
      if (!inside(i + 1, j)) out.push([x0 + 1, y0, x0 + 1, y0 + 1]);
      if (!inside(i, j - 1)) out.push([x0, y0, x0 + 1, y0]);
      if (!inside(i, j + 1)) out.push([x0, y0 + 1, x0 + 1, y0 + 1]);
    }
  }
  return out;
}

/** In-plane bounding box [i0, j0, i1, j1] of every voxel with `bit` set in the slab, or null. */
export function maskBox(
  bits: Uint8Array,
  ni: number,
  nj: number,
  bit: number,
): [number, number, number, number] | null {
  let i0 = Infinity;
  let j0 = Infinity;
  let i1 = -Infinity;
  let j1 = -Infinity;
  const plane = ni * nj;
  for (let x = 0; x < bits.length; x++) {
    if ((bits[x] & bit) === 0) continue;
    const p = x % plane;
    const i = p % ni;
    const j = (p - i) / ni;
    if (i < i0) i0 = i;
    if (i > i1) i1 = i;
    if (j < j0) j0 = j;
    if (j > j1) j1 = j;
  }
  return i0 === Infinity ? null : [i0, j0, i1, j1];
}
