/**
 * `recist3d segment` as a function: a trained 2D model (the folder `recist3d train` wrote) segments the RECIST
 * slice of every lesion of a manifest, which need not be the one it was trained on. Writes one NIfTI mask per
 * lesion on its input grid (only the RECIST slice non-zero; file name `maskFileName(lesionId)`) and
 * `segment.csv`. A lesion that fails is reported in the CSV and never stops the cohort.
 */
import { join } from 'node:path';
import { asLesionError } from '../errors.js';
import { csvText, fixedCell } from '../io/csv.js';
import { maskFileName } from '../io/mask-file-name.js';
import { readMask, writeNifti } from '../io/nifti.js';
import { computeConfusion, computeOverlap } from '../metrics/overlap.js';
import type { SegNet } from '../model/binding.js';
import { loadCheckpoint, readSidecar, type CheckpointInput } from '../model/checkpoint.js';
import { inputLayoutOf, netLayout } from '../model/infer.js';
import type { SrModels } from '../sr/apply.js';
import { addSrChannels, checkSrMatches, openSr } from '../sr/stack-channels.js';
import { buildKeyStacks } from '../steps/1-roi-stacks.js';
import {
  boxToSlice,
  segmentKeySlices,
  type KeySliceResult,
  type SegmentKeySliceOptions,
} from '../steps/key-slice.js';
import type { LesionRecord } from '../types/recist.js';
import type { LesionStack } from '../types/stack.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { provenance } from '../util/provenance.js';
import type { WsssHooks } from './wsss.js';

export interface SegmentRow {
  lesionId: string;
  patientId: string;
  category: string;
  status: 'ok' | 'failed';
  error: string;
  /** Mask file relative to the output folder ('' on failure). */
  mask: string;
  pixels: number;
  areaMm2: number;
  gcFallback: boolean | undefined;
  /** Scores on the RECIST slice against the manifest's mask, NaN without one. */
  dice: number;
  precision: number;
  recall: number;
}

export interface SegmentCohortResult {
  rows: SegmentRow[];
  ok: number;
  failed: number;
  seconds: number;
}

const COLUMNS = [
  'lesion_id',
  'patient_id',
  'category',
  'status',
  'error',
  'mask',
  'pixels',
  'area_mm2',
  'gc_fallback',
  'dice_key',
  'precision_key',
  'recall_key',
];

/**
 * Segments `records` with the model in `modelDir` (`model.pt` + `model.json` of `train` or `run`; the ROI
 * size, scale, padding, windows and input channels come from the sidecar, so inputs are cut exactly as in
 * training) and writes masks, segment.csv and segment.json to `outDir`.
 */
export async function segmentCohort2d(
  modelDir: string,
  records: readonly LesionRecord[],
  outDir: string,
  options: SegmentKeySliceOptions = {},
  hooks: WsssHooks = {},
  cohort: SegmentCohortOptions = {},
): Promise<SegmentCohortResult> {
  const t0 = performance.now();
  const base = cohort.checkpoint ?? join(modelDir, 'model');
  const sidecarFile = `${base}.json`;
  const sidecar = await readSidecar(base);
  // the model's SR channels and --sr must agree before anything is loaded or written
  if (!cohort.sr) checkSrMatches(sidecar.input, undefined, sidecarFile);
  const sr = cohort.sr ? await openSr(cohort.sr) : undefined;
  const stage = options.gc ? 'segment (CNN-GC)' : 'segment (CNN)';
  const rows: SegmentRow[] = [];
  let net: SegNet | undefined;
  try {
    if (sr) checkSrMatches(sidecar.input, sr, sidecarFile);
    net = (await loadCheckpoint(base)).net;
    const layout = netLayout(net, inputLayoutOf(sidecar.input));
    hooks.stage?.(stage, records.length);
    for (let start = 0; start < records.length; start += CHUNK) {
      const part = records.slice(start, start + CHUNK);
      rows.push(...(await segmentChunk(net, sidecar.input, part, outDir, { ...options, layout }, sr)));
      hooks.tick?.(Math.min(records.length, start + CHUNK));
    }
  } finally {
    net?.dispose();
    sr?.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  hooks.stageEnd?.(stage, seconds);
  const order = new Map(records.map((r, i) => [r.lesionId, i]));
  rows.sort((x, y) => (order.get(x.lesionId) ?? 0) - (order.get(y.lesionId) ?? 0));
  await writeFileAtomic(join(outDir, 'segment.csv'), toCsv(rows));
  const ok = rows.filter((r) => r.status === 'ok').length;
  await writeJsonAtomic(join(outDir, 'segment.json'), {
    provenance: provenance({ model: base, options, ...(cohort.sr ? { sr: cohort.sr } : {}) }),
    model: { net: sidecar.net, input: sidecar.input },
    lesions: rows.length,
    ok,
    failed: rows.length - ok,
    seconds,
  });
  return { rows, ok, failed: rows.length - ok, seconds };
}

export interface SegmentCohortOptions {
  /** HNN-SR: the stacked GAN folder the model was trained with (required exactly for an HNN-SR model). */
  sr?: string | undefined;
  /** Another checkpoint than `<modelDir>/model` (a base path `X` of `X.pt` + `X.json`, e.g. `rounds/round0`). */
  checkpoint?: string | undefined;
}

/** Lesions per chunk: stacks, inference and GrabCut of one chunk at a time keep memory bounded. */
const CHUNK = 64;

/** Segments and writes one chunk of lesions; a lesion that fails becomes a failed row. */
async function segmentChunk(
  net: SegNet,
  input: CheckpointInput,
  records: readonly LesionRecord[],
  outDir: string,
  options: SegmentKeySliceOptions,
  sr: SrModels | undefined,
): Promise<SegmentRow[]> {
  const built = await buildKeyStacks(records, {
    roiSize: net.config.size,
    roiScale: input.roiScale,
    padMode: input.padMode,
    ...(input.categoryWindows ? { windows: input.categoryWindows } : {}),
    context: input.context,
  });
  const rows = built.flatMap((r) => (r.ok ? [] : [failedRow(r.record, r.error)]));
  const stacks = built.flatMap((r) => (r.ok ? [r.stack] : []));
  let results: KeySliceResult[];
  try {
    if (sr) await addSrChannels(stacks, sr);
    results = await segmentKeySlices(net, stacks, options);
  } catch (e) {
    return [...rows, ...stacks.map((s) => failedRow(s.record, e))];
  }
  for (const [i, s] of stacks.entries()) {
    try {
      rows.push(await writeKeySlice(s, results[i], outDir, options.gc === true));
    } catch (e) {
      rows.push(failedRow(s.record, e));
    }
  }
  return rows;
}

/** Writes one lesion's key-slice mask on its input grid and scores it against the manifest's mask. */
async function writeKeySlice(
  s: LesionStack,
  res: KeySliceResult,
  outDir: string,
  gc: boolean,
): Promise<SegmentRow> {
  const [ni, nj, nk] = s.image.size;
  const slice = boxToSlice(res.maskBox, res.box, ni, nj);
  const full = new Uint8Array(ni * nj * nk);
  full.set(slice, s.record.keySlice * ni * nj);
  const file = maskFileName(s.record.lesionId);
  await writeNifti(join(outDir, 'masks', file), { ...s.image, data: full });
  const pixels = slice.reduce((x, y) => x + y, 0);
  const scores = s.record.maskPath
    ? await scoreSlice(slice, s.record.maskPath, s.record.keySlice)
    : undefined;
  return {
    lesionId: s.record.lesionId,
    patientId: s.record.patientId ?? '',
    category: s.record.category,
    status: 'ok',
    error: '',
    mask: `masks/${file}`,
    pixels,
    areaMm2: pixels * s.image.spacingMm[0] * s.image.spacingMm[1],
    gcFallback: gc ? res.gcFallback : undefined,
    dice: scores?.dice ?? Number.NaN,
    precision: scores?.precision ?? Number.NaN,
    recall: scores?.recall ?? Number.NaN,
  };
}

/** RECIST-slice scores of a predicted slice mask against the slice of the reference mask. */
async function scoreSlice(slice: Uint8Array, maskPath: string, k: number) {
  try {
    const m = await readMask(maskPath);
    const plane = m.size[0] * m.size[1];
    if (plane !== slice.length || k >= m.size[2]) return undefined;
    return computeOverlap(computeConfusion(slice, m.data.subarray(k * plane, (k + 1) * plane)));
  } catch {
    return undefined; // an unreadable reference leaves the scores empty; the mask is still written
  }
}

function failedRow(r: LesionRecord, e: unknown): SegmentRow {
  const err = asLesionError(e, r);
  return {
    lesionId: r.lesionId,
    patientId: r.patientId ?? '',
    category: r.category,
    status: 'failed',
    error: `${err.code}: ${err.message}`,
    mask: '',
    pixels: 0,
    areaMm2: Number.NaN,
    gcFallback: undefined,
    dice: Number.NaN,
    precision: Number.NaN,
    recall: Number.NaN,
  };
}

function toCsv(rows: SegmentRow[]): string {
  return csvText(
    COLUMNS,
    rows.map((r) => [
      r.lesionId,
      r.patientId,
      r.category,
      r.status,
      r.error,
      r.mask,
      r.status === 'ok' ? r.pixels : '',
      fixedCell(r.areaMm2, 2),
      r.gcFallback === undefined ? '' : +r.gcFallback,
      fixedCell(r.dice, 4),
      fixedCell(r.precision, 4),
      fixedCell(r.recall, 4),
    ]),
  );
}
