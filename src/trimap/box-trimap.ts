/**
 * Box trimaps for the GrabCut baselines of Table 1: a tight box around the RECIST marks, padded.
 * 'box' (GrabCut): outside BG, inside PFG. 'box-i' (GrabCut-i, like bbox_i of Khoreva et al.): outside BG,
 * the central `innerFraction` of the box area FG, the rest of the box PFG.
 */
import type { Recist } from '../types/recist.js';
import { TRIMAP } from './labels.js';
import { resolveOptions } from '../util/options.js';

export interface BoxTrimapOptions {
  /** Growth of the tight RECIST box as a share of its extent, split equally between both sides. */
  boxPadFraction?: number;
  /** Share of the padded box area, around its centre, that is FG in 'box-i' (0 gives the plain 'box'). */
  innerFraction?: number;
}

export const BOX_TRIMAP_DEFAULTS = {
  boxPadFraction: 0.25,
  innerFraction: 0.2,
} satisfies Required<BoxTrimapOptions>;

/** [u0, v0, u1, v1] (inclusive continuous bounds) of the padded RECIST box in ROI pixel coordinates. */
export function paddedRecistBox(recist: Recist, padFraction: number): [number, number, number, number] {
  const pts = [...recist.long, ...recist.short];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const px = ((x1 - x0) * padFraction) / 2;
  const py = ((y1 - y0) * padFraction) / 2;
  return [x0 - px, y0 - py, x1 + px, y1 + py];
}

/** The trimap of the n x n ROI: 'box' when innerFraction is 0, 'box-i' otherwise. */
export function boxTrimap(recist: Recist, n: number, options: BoxTrimapOptions = {}): Uint8Array {
  const o = resolveOptions(BOX_TRIMAP_DEFAULTS, options);
  const [u0, v0, u1, v1] = paddedRecistBox(recist, o.boxPadFraction);
  const cu = (u0 + u1) / 2;
  const cv = (v0 + v1) / 2;
  const k = Math.sqrt(o.innerFraction) / 2; // half-side scale of the central box
  const out = new Uint8Array(n * n);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      if (u < Math.round(u0) || u > Math.round(u1) || v < Math.round(v0) || v > Math.round(v1)) continue;
      const inner = Math.abs(u - cu) <= k * (u1 - u0 + 1) && Math.abs(v - cv) <= k * (v1 - v0 + 1);
      out[u + n * v] = o.innerFraction > 0 && inner ? TRIMAP.FG : TRIMAP.PFG;
    }
  }
  return out;
}
