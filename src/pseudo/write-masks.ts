/**
 * `recist3d masks` as a function: one NIfTI mask per lesion on its input grid (only the RECIST slice is
 * non-zero; header and affine from the image) plus masks.csv with per-lesion status and stats.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecist3dError } from '../errors.js';
import { csvText } from '../io/csv.js';
import { maskFileName } from '../io/mask-file-name.js';
import { writeNifti } from '../io/nifti.js';
import type { LesionRecord } from '../types/recist.js';
import type { Mask } from '../types/volume.js';
import { generateCohortMasks, type CohortMaskOptions, type LesionMaskResult } from './cohort.js';
import { nativeGrabCut, type GrabCutFn } from './grabcut.js';
import { PSEUDO_MASK_DEFAULTS } from './methods.js';

export interface MaskRow {
  lesionId: string;
  category: string;
  status: 'ok' | 'error';
  errorCode: string;
  message: string;
  method: string;
  fallback: boolean;
  nativeStatus: number;
  /** Share of the ROI that is foreground. */
  fgFractionRoi: number;
  /** Foreground pixels on the RECIST slice. */
  slicePixels: number;
  timeMs: number;
  /** Mask file, relative to the output folder ('' on error). */
  file: string;
}

export const MASK_CSV_COLUMNS = [
  'lesion_id',
  'category',
  'status',
  'error_code',
  'message',
  'method',
  'fallback',
  'native_status',
  'fg_fraction_roi',
  'slice_pixels',
  'time_ms',
  'file',
] as const;

export interface WriteMasksSummary {
  rows: MaskRow[];
  ok: number;
  failed: number;
  fallback: number;
  seconds: number;
}

/** Runs the cohort and writes masks + masks.csv into `outDir`. `onLesion` is called after each lesion. */
export async function writeCohortMasks(
  records: readonly LesionRecord[],
  outDir: string,
  options: CohortMaskOptions = {},
  onLesion: (row: MaskRow) => void = () => {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<WriteMasksSummary> {
  const base = options.method ?? PSEUDO_MASK_DEFAULTS.method;
  // GrabCut-R on the stacked GAN's image is recorded as its own method (the paper's GrabCut-R-SR)
  const method = options.sr ? `${base}-sr` : base;
  await mkdir(outDir, { recursive: true });
  // a masks.csv of an earlier run would describe other masks: it goes now, and the new one is written even
  // when something unexpected stops the cohort, with the rows done so far
  await rm(join(outDir, 'masks.csv'), { force: true });
  const rows: MaskRow[] = [];
  const t0 = performance.now();
  let fallback = 0;
  try {
    await generateCohortMasks(
      records,
      async (r: LesionMaskResult) => {
        const row = r.ok
          ? await writeOne(r, outDir, method)
          : errorRow(r.record, method, r.error.code, r.error.message);
        if (row.fallback) fallback++;
        rows.push(row);
        onLesion(row);
      },
      options,
      engine,
    );
  } finally {
    await writeFile(join(outDir, 'masks.csv'), toCsv(rows));
  }
  // counted from the rows: a mask that could not be written is a failure too
  const ok = rows.filter((r) => r.status === 'ok').length;
  return { rows, ok, failed: rows.length - ok, fallback, seconds: (performance.now() - t0) / 1000 };
}

async function writeOne(
  r: Extract<LesionMaskResult, { ok: true }>,
  outDir: string,
  method: string,
): Promise<MaskRow> {
  const img = r.image;
  const [ni, nj] = img.size;
  const plane = ni * nj;
  const file = maskFileName(r.record.lesionId);
  try {
    const data = new Uint8Array(img.data.length);
    data.set(r.sliceMask, r.record.keySlice * plane);
    const vol: Mask = { ...img, data, meta: { ...img.meta, description: `recist3d ${method}` } };
    await writeNifti(join(outDir, file), vol, { description: `recist3d ${method} mask` });
  } catch (e) {
    // a file-system error (EISDIR, ENOSPC, ...) is an output problem; its message names the path
    const code = isRecist3dError(e) ? e.code : 'E_OUTPUT_INVALID';
    return errorRow(r.record, method, code, `Could not write the mask: ${(e as Error).message}`);
  }
  let fg = 0;
  for (let i = 0; i < r.mask.length; i++) fg += r.mask[i];
  let slicePixels = 0;
  for (let i = 0; i < r.sliceMask.length; i++) slicePixels += r.sliceMask[i];
  return {
    lesionId: r.record.lesionId,
    category: r.record.category,
    status: 'ok',
    errorCode: '',
    message: '',
    method,
    fallback: r.fallback,
    nativeStatus: r.nativeStatus,
    fgFractionRoi: fg / r.mask.length,
    slicePixels,
    timeMs: r.timeMs,
    file,
  };
}

function errorRow(record: LesionRecord, method: string, code: string, message: string): MaskRow {
  return {
    lesionId: record.lesionId,
    category: record.category,
    status: 'error',
    errorCode: code,
    message,
    method,
    fallback: false,
    nativeStatus: -1,
    fgFractionRoi: 0,
    slicePixels: 0,
    timeMs: 0,
    file: '',
  };
}

function toCsv(rows: MaskRow[]): string {
  return csvText(
    MASK_CSV_COLUMNS,
    rows.map((r) => [
      r.lesionId,
      r.category,
      r.status,
      r.errorCode,
      r.message,
      r.method,
      r.fallback ? 1 : 0,
      r.nativeStatus,
      r.fgFractionRoi.toFixed(5),
      r.slicePixels,
      r.timeMs.toFixed(1),
      r.file,
    ]),
  );
}
