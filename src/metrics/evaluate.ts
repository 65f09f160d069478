/**
 * `recist3d eval` as a function: scores a folder of predicted masks (<lesion_id>.nii.gz, as `masks` writes
 * them) against the manifest's reference masks, on the RECIST slice ('key') or the whole volume ('all').
 * Every lesion gets a row; lesions that cannot be scored say why (missing, misaligned, unreadable, no_truth)
 * and are left out of the means, never silently.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { affineFromGrid, affinesClose } from '../geometry/affine.js';
import { readNifti } from '../io/nifti.js';
import type { LesionRecord } from '../types/recist.js';
import type { Vec3, Volume } from '../types/volume.js';
import { MetricsAccumulator, type MetricsReport } from './aggregate.js';
import { computeSegmentationMetrics, type SegmentationMetrics } from './segmentation.js';
import { maskFileName } from '../io/mask-file-name.js';
import { resolveOptions } from '../util/options.js';

export type EvalStatus = 'ok' | 'missing' | 'misaligned' | 'unreadable' | 'no_truth';

export interface EvalRow {
  lesionId: string;
  category: string;
  status: EvalStatus;
  /** Why the lesion was not scored ('' when ok). */
  message: string;
  /** Scores when status is 'ok'. */
  metrics?: SegmentationMetrics;
}

export interface EvaluateOptions {
  /** 'key': the RECIST slice only (2D); 'all': the whole volume (3D). */
  slice?: 'key' | 'all';
  /** Point set of the AVD (see computeSegmentationMetrics). */
  avdPointSet?: 'surface' | 'all';
  /** Largest affine difference (mm) between prediction and reference grids still taken as aligned. */
  alignToleranceMm?: number;
}

const DEFAULTS = {
  slice: 'key',
  avdPointSet: 'surface',
  alignToleranceMm: 1e-3,
} satisfies Required<EvaluateOptions>;

export interface EvaluationResult {
  rows: EvalRow[];
  report: MetricsReport;
  counts: Record<EvalStatus, number>;
}

export async function evaluateCohort(
  records: readonly LesionRecord[],
  predDir: string,
  options: EvaluateOptions = {},
  onLesion: (row: EvalRow) => void = () => {},
): Promise<EvaluationResult> {
  const o = resolveOptions(DEFAULTS, options);
  const rows: EvalRow[] = [];
  const acc = new MetricsAccumulator();
  const counts: Record<EvalStatus, number> = { ok: 0, missing: 0, misaligned: 0, unreadable: 0, no_truth: 0 };
  for (const rec of records) {
    const row = await evaluateOne(rec, predDir, o);
    if (row.metrics) acc.add(row.category, row.metrics);
    counts[row.status]++;
    rows.push(row);
    onLesion(row);
  }
  return { rows, report: acc.report(), counts };
}

async function evaluateOne(
  rec: LesionRecord,
  predDir: string,
  o: Required<EvaluateOptions>,
): Promise<EvalRow> {
  const base = { lesionId: rec.lesionId, category: rec.category };
  if (!rec.maskPath)
    return { ...base, status: 'no_truth', message: 'The manifest row has no reference mask' };
  const predPath = join(predDir, maskFileName(rec.lesionId));
  if (!existsSync(predPath)) return { ...base, status: 'missing', message: `No prediction at ${predPath}` };
  let pred: Volume;
  let truth: Volume;
  try {
    truth = await readNifti(rec.maskPath);
  } catch (e) {
    return { ...base, status: 'unreadable', message: `Reference mask: ${(e as Error).message}` };
  }
  try {
    pred = await readNifti(predPath);
  } catch (e) {
    return { ...base, status: 'unreadable', message: `Prediction: ${(e as Error).message}` };
  }
  if (pred.size.some((s, a) => s !== truth.size[a])) {
    const msg = `Prediction grid ${pred.size.join('x')} differs from the reference ${truth.size.join('x')}`;
    return { ...base, status: 'misaligned', message: msg };
  }
  if (!affinesClose(affineFromGrid(pred), affineFromGrid(truth), o.alignToleranceMm)) {
    const msg = `Prediction affine differs from the reference's by more than ${o.alignToleranceMm} mm`;
    return { ...base, status: 'misaligned', message: msg };
  }
  const [ni, nj, nk] = truth.size;
  if (o.slice === 'key' && !(rec.keySlice >= 0 && rec.keySlice < nk)) {
    return {
      ...base,
      status: 'misaligned',
      message: `Key slice ${rec.keySlice} is outside the ${nk} slices`,
    };
  }
  const plane = ni * nj;
  const [from, to] = o.slice === 'key' ? [rec.keySlice * plane, (rec.keySlice + 1) * plane] : [0, plane * nk];
  const size: Vec3 = o.slice === 'key' ? [ni, nj, 1] : [ni, nj, nk];
  const binary = (v: Volume) => Uint8Array.from(v.data.subarray(from, to), (x) => (x !== 0 ? 1 : 0));
  const metrics = computeSegmentationMetrics(
    binary(pred),
    binary(truth),
    { size, spacingMm: truth.spacingMm },
    o,
  );
  return { ...base, status: 'ok', message: '', metrics };
}
