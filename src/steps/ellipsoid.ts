/**
 * The RECIST ellipsoid: the image-free 3D reference every mask is judged against. The RECIST ellipse on the key
 * slice, shrunk on the other slices by the Pythagorean rule of the estimated 3D RECIST (depth = long axis), on
 * the same ROI stack and grid as the masks. No prior and no HU or ring exclusion: it sees no image.
 */
import { rasterizeEllipse } from '../trimap/raster.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';
import type { LesionStack } from '../types/stack.js';
import { assembleLesion3d, stackSlices, type Lesion3dResult, type Segment3dOptions } from './5-segment-3d.js';

/** The image-free settings of the reference: only the geometry of the estimated RECIST decides. */
export const IMAGE_FREE = {
  priorThreshold: 0,
  priorOutThreshold: 0,
  keySlab: -1,
  huExclusion: null,
  ringExclusion: null,
  clampBeyondEstimate: -1,
} satisfies Segment3dOptions;

/** The ROI-grid ellipse maps of the estimated RECIST on every stack slice (empty where it vanishes). */
export function ellipsoidMaps(s: LesionStack, zExtent = 1): Float32Array[] {
  const n = s.keyRoi.geometry.sizePx;
  return stackSlices(s).map((k) => {
    const r = estimatedRoiRecist(s, k, zExtent);
    return r ? Float32Array.from(rasterizeEllipse(r, n)) : new Float32Array(n * n);
  });
}

/** The RECIST ellipsoid of a lesion as a 3D mask on the CT grid (options: the assembly's, e.g. `zExtent`). */
export function ellipsoidLesion3d(s: LesionStack, options: Segment3dOptions = {}): Lesion3dResult {
  return assembleLesion3d(s, ellipsoidMaps(s, options.zExtent ?? 1), { ...options, ...IMAGE_FREE });
}
