/**
 * GrabCut-R trimaps from a RECIST on its square ROI (paper section 3.1). Two kinds:
 *
 * - 'ranked' (default; measured on LIDC, see docs/experiments/history.md): pixels ranked by distance to the
 *   rasterised RECIST axes. The nearest `fgFraction` of the ROI that also lies inside the RECIST ellipse,
 *   plus the axes, is FG; the rest of that nearest share and the next `pfgFraction` is PFG; the next
 *   `pbgFraction` PBG; the farthest (1 - fg - pfg - pbg, 50 % by default) BG.
 * - 'paper': the outer `bgFraction` of the ROI (ranked by the box norm max(|dx|/w, |dy|/h) around the RECIST
 *   bbox centre, so the BG ring follows the paper's [2w, 2h] ROI) is BG; the axes dilated to `fgFraction` of
 *   the ROI are FG; the remaining pixels are split in half by d(FG) - d(BG): the closer half PFG, the other
 *   PBG.
 *
 * In both, the axes are FG whatever the ranking says: they clamp the segmentation so that it cannot
 * shrink away from the RECIST.
 */
import type { Recist } from '../types/recist.js';
import { TRIMAP } from './labels.js';
import {
  dilateToCount,
  distanceToPx,
  rankBy,
  rasterizeAxes,
  rasterizeEllipse,
  squaredDistancePx2,
} from './raster.js';
import { resolveOptions } from '../util/options.js';

export interface RecistTrimapOptions {
  /** 'ranked' (distance-ranked, docs/experiments/history.md) or 'paper' (section 3.1 as written). */
  kind?: 'ranked' | 'paper';
  /** Share of the ROI area that is FG (before adding the axes). */
  fgFraction?: number;
  /** 'ranked': share of the ROI that is PFG after the FG share. */
  pfgFraction?: number;
  /** 'ranked': share of the ROI that is PBG after the PFG share. */
  pbgFraction?: number;
  /** 'paper': share of the ROI, farthest from the lesion box, that is BG. */
  bgFraction?: number;
  /** 'ranked': scale of the RECIST ellipse that limits FG (1 = the ellipse through the axis ends). */
  ellipseScale?: number;
}

export const RECIST_TRIMAP_DEFAULTS = {
  kind: 'ranked',
  fgFraction: 0.1,
  pfgFraction: 0.2,
  pbgFraction: 0.2,
  bgFraction: 0.5,
  ellipseScale: 1,
} satisfies Required<RecistTrimapOptions>;

/** A trimap (labels of TRIMAP) of the n x n ROI for a RECIST given in ROI pixel coordinates. */
export function trimapFromRecist(recist: Recist, n: number, options: RecistTrimapOptions = {}): Uint8Array {
  const o = resolveOptions(RECIST_TRIMAP_DEFAULTS, options);
  for (const k of ['fgFraction', 'pfgFraction', 'pbgFraction', 'bgFraction'] as const) {
    if (!(o[k] >= 0 && o[k] <= 1))
      throw new RangeError(`trimapFromRecist: ${k} must be in [0, 1], got ${o[k]}`);
  }
  const axes = rasterizeAxes(recist, n);
  const trimap = o.kind === 'paper' ? paperTrimap(recist, axes, n, o) : rankedTrimap(recist, axes, n, o);
  for (let i = 0; i < axes.length; i++) if (axes[i]) trimap[i] = TRIMAP.FG;
  return trimap;
}

function rankedTrimap(
  recist: Recist,
  axes: Uint8Array,
  n: number,
  o: Required<RecistTrimapOptions>,
): Uint8Array {
  const total = n * n;
  const order = rankBy(squaredDistancePx2(axes, n));
  const ellipse = rasterizeEllipse(recist, n, o.ellipseScale);
  const nFg = Math.round(o.fgFraction * total);
  // cumulative shares, rounded once each, so that the BG share does not drift with rounding
  const nPfg = Math.round((o.fgFraction + o.pfgFraction) * total);
  const nPbg = Math.round((o.fgFraction + o.pfgFraction + o.pbgFraction) * total);
  const out = new Uint8Array(total); // BG
  for (let r = 0; r < Math.min(nPbg, total); r++) {
    const p = order[r];
    if (r < nFg) out[p] = ellipse[p] ? TRIMAP.FG : TRIMAP.PFG;
    else out[p] = r < nPfg ? TRIMAP.PFG : TRIMAP.PBG;
  }
  return out;
}

function paperTrimap(
  recist: Recist,
  axes: Uint8Array,
  n: number,
  o: Required<RecistTrimapOptions>,
): Uint8Array {
  const total = n * n;
  const pts = [...recist.long, ...recist.short];
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]);
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2;
  const cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  const hw = Math.max(0.5, (Math.max(...xs) - Math.min(...xs)) / 2);
  const hh = Math.max(0.5, (Math.max(...ys) - Math.min(...ys)) / 2);
  const boxNorm = new Float64Array(total);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) boxNorm[u + n * v] = Math.max(Math.abs(u - cx) / hw, Math.abs(v - cy) / hh);
  }
  const out = new Uint8Array(total).fill(TRIMAP.PBG);
  const byBox = rankBy(boxNorm);
  const nBg = Math.round(o.bgFraction * total);
  const bg = new Uint8Array(total);
  for (let r = total - nBg; r < total; r++) bg[byBox[r]] = 1;
  const fg = dilateToCount(axes, n, Math.round(o.fgFraction * total));
  const dFg = distanceToPx(fg, n);
  const dBg = distanceToPx(bg, n);
  const middle: number[] = [];
  for (let p = 0; p < total; p++) {
    if (fg[p]) out[p] = TRIMAP.FG;
    else if (bg[p]) out[p] = TRIMAP.BG;
    else middle.push(p);
  }
  // closer to FG than to BG first; a ROI without BG (bgFraction 0) ranks by d(FG) alone
  const key = (p: number) => dFg[p] - (Number.isFinite(dBg[p]) ? dBg[p] : 0);
  middle.sort((a, b) => key(a) - key(b) || a - b);
  const half = Math.round(middle.length / 2);
  for (let r = 0; r < half; r++) out[middle[r]] = TRIMAP.PFG;
  return out;
}
