/**
 * The image-only 3D baselines of paper Table 5, on the same ROI stacks as WSSS:
 * - 'grabcut-3d': the key slice's 2D RECIST trimap (GrabCut-R) on every slice;
 * - 'grabcut-3de': the trimap of the estimated 3D RECIST on each slice (slices where it vanishes are empty);
 * - 'ellipsoid': no image at all: the RECIST ellipse on the key slice, shrunk on other slices by the
 *   Pythagorean rule (steps/ellipsoid.ts, the image-free reference).
 */
import { grabCutSquares, nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { rasterizeAxes } from '../trimap/raster.js';
import { trimapCounts, trimapForeground } from '../trimap/labels.js';
import { trimapFromRecist } from '../trimap/recist-trimap.js';
import { keepComponentsTouching } from '../geometry/connected.js';
import {
  assembleLesion3d,
  stackSlices,
  type Lesion3dResult,
  type Segment3dOptions,
} from '../steps/5-segment-3d.js';
import { type LesionStack } from '../types/stack.js';
import { IMAGE_FREE, ellipsoidLesion3d } from '../steps/ellipsoid.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';

export const BASELINES_3D = ['grabcut-3d', 'grabcut-3de', 'ellipsoid'] as const;
export type Baseline3d = (typeof BASELINES_3D)[number];

export async function baselineLesion3d(
  s: LesionStack,
  method: Baseline3d,
  options: Segment3dOptions & { iterations?: number } = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<Lesion3dResult> {
  if (method === 'ellipsoid') return ellipsoidLesion3d(s, options);
  const n = s.keyRoi.geometry.sizePx;
  const ks = stackSlices(s);
  // the estimated 3D RECIST of the paper (Pythagorean, depth L) unless a z extent is given explicitly
  const zExtent = options.zExtent ?? 1;
  const recists = ks.map((k) =>
    method === 'grabcut-3d' ? s.keyRoi.recist : estimatedRoiRecist(s, k, zExtent),
  );
  const maps = ks.map(() => new Float32Array(n * n));
  const idx = recists.flatMap((r, z) => (r ? [z] : []));
  const trimaps = idx.map((z) => trimapFromRecist(recists[z]!, n));
  const gc = await grabCutSquares(
    idx.map((z, m) => ({ image: s.images[z], trimap: trimaps[m] })),
    n,
    options.iterations ?? 5,
    engine,
  );
  idx.forEach((z, m) => {
    const kept = gc.masks[m].reduce((a, b) => a + b, 0);
    const axes = rasterizeAxes(recists[z]!, n);
    // the GrabCut-R fallback rule of the 2D masks: FG + PFG when GrabCut keeps (almost) nothing
    const mask =
      gc.status[m] !== 0 || kept < trimapCounts(trimaps[m]).fg ? trimapForeground(trimaps[m]) : gc.masks[m];
    maps[z] = Float32Array.from(keepComponentsTouching(mask, axes, [n, n]));
  });
  // the paper's baselines, as published: no RECIST prior, no HU exclusion
  return assembleLesion3d(s, maps, { ...options, ...IMAGE_FREE });
}
