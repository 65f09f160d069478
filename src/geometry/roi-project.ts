/**
 * Projecting ROI-grid probabilities back onto the slice grid by bilinear interpolation, so that masks of
 * lesions whose ROI is coarser than the CT stay smooth instead of blocky.
 */
import { sliceToRoi, type RoiGeometry } from './roi.js';

/** Slice pixels [i0, j0, i1, j1] (inclusive) of a box on the slice grid; box arrays are i fastest. */
export type SliceBox = [number, number, number, number];

/** Width and height in pixels of a slice box. */
export function sliceBoxSize(box: SliceBox): [number, number] {
  return [box[2] - box[0] + 1, box[3] - box[1] + 1];
}

/** The slice pixels the ROI covers: [i0, j0, i1, j1] inclusive, clipped to the slice. */
export function roiBoxOnSlice(g: RoiGeometry): SliceBox {
  const [ni, nj] = g.sliceSize;
  const i0 = Math.max(0, Math.ceil(g.cornerIJ[0] - 0.5));
  const j0 = Math.max(0, Math.ceil(g.cornerIJ[1] - 0.5));
  const i1 = Math.min(ni - 1, Math.floor(g.cornerIJ[0] + g.sideVoxels - 0.5));
  const j1 = Math.min(nj - 1, Math.floor(g.cornerIJ[1] + g.sideVoxels - 0.5));
  return [i0, j0, i1, j1];
}

/**
 * Bilinear samples of the n x n ROI map at every slice pixel of `box` (row-major over the box, i fastest).
 * Positions outside the ROI take the nearest edge value.
 */
export function roiToSliceBox(map: Float32Array, g: RoiGeometry, box: SliceBox): Float32Array {
  const n = g.sizePx;
  const [i0, j0, i1, j1] = box;
  const [w, h] = sliceBoxSize(box);
  const out = new Float32Array(Math.max(0, w * h));
  const clamp = (v: number) => Math.min(n - 1, Math.max(0, v));
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const [u, v] = sliceToRoi(g, [i, j]);
      const uc = clamp(u);
      const vc = clamp(v);
      const u0 = Math.min(n - 2, Math.floor(uc));
      const v0 = Math.min(n - 2, Math.floor(vc));
      const fu = uc - u0;
      const fv = vc - v0;
      const a = map[u0 + n * v0];
      const b = map[u0 + 1 + n * v0];
      const c = map[u0 + n * (v0 + 1)];
      const d = map[u0 + 1 + n * (v0 + 1)];
      out[i - i0 + w * (j - j0)] = (1 - fv) * ((1 - fu) * a + fu * b) + fv * ((1 - fu) * c + fu * d);
    }
  }
  return out;
}
