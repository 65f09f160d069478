/** Curated public API of recist3d. Each module appends its own block. */

// --- data layer: io, geometry, recist, util ---
export {
  readNifti,
  readNiftiHeader,
  readMask,
  writeNifti,
  type WriteNiftiOptions,
  type ReadMaskOptions,
} from './io/nifti.js';
export type { NiftiMeta } from './io/nifti-header.js';
export {
  loadManifest,
  writeManifest,
  parseCategory,
  ManifestError,
  type ManifestIssue,
  type LoadManifestOptions,
} from './io/manifest.js';
export { parseDlInfo, parseDlInfoText, type DlInfoRow } from './io/deeplesion.js';
export { loadDeepLesionVolume, deepLesionKeySlice, type DeepLesionMeta } from './io/deeplesion-volume.js';
export { readPng16, type Png16Slice } from './io/png16.js';
export { importDeepLesion, type ImportDeepLesionResult } from './io/import-deeplesion.js';
export { masksToManifest, type MasksToManifestResult } from './io/manifest-from-masks.js';
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

// --- DICOM: series, RECIST SR, RTSTRUCT in; SEG, SR, CT series out (docs/dicom.md) ---
export { importDicom, type ImportDicomOptions, type ImportDicomResult } from './dicom/import.js';
export { exportDicom, type ExportDicomOptions, type ExportDicomResult } from './dicom/export.js';
export { readDicomFolders, type LoadedSeries, type DicomFailure } from './dicom/read-series.js';
export {
  readSidecar as readDicomSidecar,
  sidecarPathFor as dicomSidecarPathFor,
  type DicomSeriesSidecar,
} from './dicom/sidecar.js';

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

// --- training masks from RECIST (paper 3.1, Table 1) and evaluation metrics ---
export {
  extractRoi,
  roiGeometry,
  roiMaskToSlice,
  sliceMaskToRoi,
  sliceToRoi,
  roiToSlice,
  DEFAULT_WINDOWS,
  type Roi,
  type RoiGeometry,
  type RoiOptions,
} from './geometry/roi.js';
export { TRIMAP, trimapCounts, trimapForeground } from './trimap/labels.js';
export {
  trimapFromRecist,
  RECIST_TRIMAP_DEFAULTS,
  type RecistTrimapOptions,
} from './trimap/recist-trimap.js';
export { boxTrimap, BOX_TRIMAP_DEFAULTS, type BoxTrimapOptions } from './trimap/box-trimap.js';
export {
  MASK_METHODS,
  PSEUDO_MASK_DEFAULTS,
  planLesionMask,
  finishGrabCutMask,
  type MaskMethod,
  type PseudoMaskOptions,
} from './pseudo/methods.js';
export {
  denseCrfMask,
  denseCrfProbability,
  DENSE_CRF_DEFAULTS,
  type DenseCrfOptions,
} from './pseudo/dcrf.js';
export { grabCutSquares, nativeGrabCut, type GrabCutFn } from './pseudo/grabcut.js';
export {
  generateCohortMasks,
  masksForRois,
  lesionRoi,
  type CohortMaskOptions,
  type LesionMaskResult,
} from './pseudo/cohort.js';
export { writeCohortMasks, type MaskRow } from './pseudo/write-masks.js';
export { compareMethods, type ComparisonLesion, type MethodComparison } from './experiments/table1.js';
export {
  computeConfusion,
  computeOverlap,
  computeSegmentationMetrics,
  averagedHausdorffMm,
  squaredDistanceMm2,
  surfaceVoxels,
  MetricsAccumulator,
  summarize,
  formatMetricsTable,
  type Confusion,
  type SegmentationMetrics,
  type MetricsReport,
} from './metrics/index.js';
export {
  evaluateCohort,
  type EvalRow,
  type EvaluationResult,
  type EvaluateOptions,
} from './metrics/evaluate.js';
export {
  trainCnn,
  trainCnnOnStacks,
  CNN_TRAIN_DEFAULTS,
  type CnnTrainOptions,
} from './pipeline/train-cnn.js';
export {
  segmentKeySlices,
  SEGMENT_KEY_SLICE_DEFAULTS,
  type SegmentKeySliceOptions,
  type KeySliceResult,
} from './steps/key-slice.js';
export { segmentCohort2d, type SegmentRow, type SegmentCohortResult } from './pipeline/segment-cohort.js';

// --- native engine (libtorch + OpenCV) and checkpoints ---
export {
  SegNet,
  grabCut,
  grabCutWithStatus,
  engineInfo,
  setThreads,
  GRABCUT_STATUS,
  type Arch,
  type NetConfig,
  type TrainBatch,
  type EpochOptions,
  type GrabCutBatch,
  type GrabCutResult,
  type EngineInfo,
} from './model/binding.js';
export { saveCheckpoint, loadCheckpoint, readSidecar, type CheckpointSidecar } from './model/checkpoint.js';
// --- data-parallel jobs on c10d (docs/distributed.md) ---
export {
  readDistEnv,
  joinFromEnv,
  joinProcessGroup,
  leaveProcessGroup,
  processGroup,
  allReduceMean,
  JOIN_DEFAULTS,
  type DistEnv,
  type GroupInfo,
  type JoinOptions,
} from './model/binding.js';

// --- the WSSS main job (paper 3.3, Algorithm 1), 3D evaluation and follow-up ---
export { runPipeline, type RunOptions, type RunSummary } from './pipeline/run.js';
export {
  trainWsss,
  WSSS_DEFAULTS,
  type WsssOptions,
  type WsssHooks,
  type WsssResult,
} from './pipeline/wsss.js';
export { buildStacks, buildStack, STACK_DEFAULTS, type StackOptions } from './steps/1-roi-stacks.js';
export {
  segmentLesion3d,
  assembleLesion3d,
  SEGMENT3D_DEFAULTS,
  type Segment3dOptions,
  type Lesion3dResult,
} from './steps/5-segment-3d.js';
export { baselineLesion3d, BASELINES_3D, type Baseline3d } from './experiments/baselines-3d.js';
export { scoreCohort, type CohortScores, type LesionOutcome } from './pipeline/score-cohort.js';
export { runExperiment3d, type Experiment3dOptions } from './experiments/table5.js';
export { trackCohort, pearsonR2, type TrackResult, type TrackPair } from './pipeline/track.js';
export {
  trimapFromCnn,
  fallbackLabels,
  CNN_TRIMAP_DEFAULTS,
  type CnnTrimapOptions,
} from './trimap/from-cnn.js';
export { PrAccumulator } from './metrics/pr-curve.js';
export { fit, FIT_DEFAULTS, type FitOptions, type FitResult } from './train/fit.js';
export { type LesionStack } from './types/stack.js';
export { maskFileName } from './io/mask-file-name.js';
