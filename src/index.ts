/** Curated public API of recist3d. Each module appends its own block. */

// --- data layer: io, geometry, recist, util ---
export { readNifti, readMask, writeNifti, type WriteNiftiOptions, type ReadMaskOptions } from './io/nifti.js';
export type { NiftiMeta } from './io/nifti-header.js';
export { loadManifest, writeManifest, parseCategory, ManifestError, type ManifestIssue } from './io/manifest.js';
export { parseRecist, recistToNumbers, recistIntersection, segmentLengthMm } from './recist/parse.js';
export { validateRecist, ellipsoidVolumeMm3, type RecistMeasurement } from './recist/validate.js';
export { recistFromMask, type RecistFromMaskOptions, type RecistFromMaskResult } from './recist/from-mask.js';
export { estimateRecist3d } from './recist/estimate3d.js';
export { crop, pad, maskBoundingBox } from './geometry/crop.js';
export { resample } from './geometry/resample.js';
export { window } from './geometry/window.js';
export { applyInverse, geometryOf, type CaseGeometry, type GeometryStep } from './geometry/case-geometry.js';
export { affineFromGrid, gridFromAffine, voxelToWorld, type Affine, type Grid } from './geometry/affine.js';
export { createRng, type Rng } from './util/random.js';

// --- synth: phantom cohort generator ---
export {
  generateCohort,
  planCohort,
  generateStudy,
  COHORT_DEFAULTS,
  type CohortOptions,
  type CohortCase,
  type PlannedStudy,
} from './synth/cohort.js';
export { writeCohort, EXTRA_COLUMNS, type WriteCohortOptions, type WrittenCohort } from './synth/write.js';
export { generatePhantom, type Phantom, type PhantomSpec } from './synth/phantom.js';
