/**
 * Training masks for a whole cohort: read each lesion's image, cut its ROI, run the chosen method (GrabCut in
 * native batches), map the ROI mask back onto the RECIST slice. A lesion that fails (unreadable file,
 * RECIST off the slice or degenerate, ...) yields an error result; the others go on.
 */
import { Recist3dError, asLesionError } from '../errors.js';
import { extractRoi, roiMaskToSlice, type Roi, type RoiOptions } from '../geometry/roi.js';
import { readNifti } from '../io/nifti.js';
import { validateRecist, type ValidateRecistOptions } from '../recist/validate.js';
import type { LesionRecord } from '../types/recist.js';
import type { Volume } from '../types/volume.js';
import { grabCutSquares, nativeGrabCut, type GrabCutFn } from './grabcut.js';
import {
  PSEUDO_MASK_DEFAULTS,
  finishGrabCutMask,
  planLesionMask,
  type PseudoMaskOptions,
} from './methods.js';
import { resolveOptions } from '../util/options.js';
import { superResolve8bit, type SrModels } from '../sr/apply.js';

export interface RoiMaskResult {
  /** Binary mask on the ROI grid. */
  mask: Uint8Array;
  /** The method's fallback replaced its answer (see methods.ts). */
  fallback: boolean;
  /** Native GrabCut status (0 = ran; -1 = no GrabCut for this method). */
  nativeStatus: number;
  /** Milliseconds spent on this ROI (a batch's GrabCut time is shared equally). */
  timeMs: number;
}

export interface CohortMaskOptions extends PseudoMaskOptions {
  /** ROI options (the window comes from the record, else the category default). */
  roi?: Omit<RoiOptions, 'window' | 'category'>;
  /** ROIs per native GrabCut call. */
  batchSize?: number;
  /** RECIST checks before any work (validateRecist). */
  validation?: ValidateRecistOptions;
  /**
   * GrabCut-R-SR (the paper's Table 6): the method runs on the stacked GAN's enhanced ROI image (G1 then G2,
   * zoom 1) instead of the original; undefined = the original image.
   */
  sr?: SrModels | undefined;
}

const DEFAULTS = {
  ...PSEUDO_MASK_DEFAULTS,
  roi: {},
  batchSize: 32,
  validation: {},
  sr: undefined,
} satisfies Required<CohortMaskOptions>;

/** The ROIs with their 8-bit images replaced by the stacked GAN's enhanced images (one native call per size). */
async function enhancedRois(rois: readonly Roi[], sr: SrModels): Promise<Roi[]> {
  const { enhanced } = await superResolve8bit(
    sr,
    rois.map((r) => ({ image: r.image, n: r.geometry.sizePx })),
  );
  return rois.map((r, k) => ({ ...r, image: enhanced[k] }));
}

/** Runs the method on every ROI, GrabCut in batches of `batchSize`. Results in input order. */
export async function masksForRois(
  rois: readonly Roi[],
  options: CohortMaskOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<RoiMaskResult[]> {
  const o = resolveOptions(DEFAULTS, options);
  const out: RoiMaskResult[] = [];
  for (let start = 0; start < rois.length; start += o.batchSize) {
    const t0 = performance.now();
    const original = rois.slice(start, start + o.batchSize);
    const chunk = o.sr ? await enhancedRois(original, o.sr) : original;
    const plans = chunk.map((roi) => planLesionMask(roi, o));
    const planMs = (performance.now() - t0) / chunk.length;
    const gcIdx = plans.flatMap((p, k) => (p.kind === 'grabcut' ? [k] : []));
    const bySize = new Map<number, number[]>();
    for (const k of gcIdx) {
      const n = chunk[k].geometry.sizePx;
      bySize.set(n, [...(bySize.get(n) ?? []), k]);
    }
    const gc = new Map<number, { mask: Uint8Array; status: number; ms: number }>();
    for (const [n, ks] of bySize) {
      const t1 = performance.now();
      const jobs = ks.map((k) => {
        const p = plans[k];
        if (p.kind !== 'grabcut') throw new Error('unreachable');
        return { image: p.image, trimap: p.trimap };
      });
      const r = await grabCutSquares(jobs, n, o.iterations, engine);
      const ms = (performance.now() - t1) / ks.length;
      ks.forEach((k, idx) => gc.set(k, { mask: r.masks[idx], status: r.status[idx], ms }));
    }
    plans.forEach((p, k) => {
      if (p.kind === 'direct') {
        out.push({ mask: p.mask, fallback: false, nativeStatus: -1, timeMs: planMs });
        return;
      }
      const g = gc.get(k)!;
      const t2 = performance.now();
      const f = finishGrabCutMask(chunk[k], p.trimap, g.mask, g.status, o);
      out.push({ ...f, nativeStatus: g.status, timeMs: planMs + g.ms + performance.now() - t2 });
    });
  }
  return out;
}

/** Validates the lesion against its image and cuts its ROI. Throws Recist3dError with the lesion's context. */
export function lesionRoi(record: LesionRecord, image: Volume, options: CohortMaskOptions = {}): Roi {
  const o = resolveOptions(DEFAULTS, options);
  const ctx = { lesionId: record.lesionId, row: record.row, file: record.imagePath };
  const [ni, nj, nk] = image.size;
  if (!(Number.isInteger(record.keySlice) && record.keySlice >= 0 && record.keySlice < nk)) {
    throw new Recist3dError(
      'E_RECIST_OUTSIDE',
      `Key slice ${record.keySlice} is outside the image's ${nk} slices (0..${nk - 1})`,
      { ...ctx, field: 'key_slice' },
    );
  }
  validateRecist(record.recist, [ni, nj], image.spacingMm, ctx, o.validation);
  const plane = ni * nj;
  const slice = image.data.subarray(record.keySlice * plane, (record.keySlice + 1) * plane);
  return extractRoi(slice, [ni, nj], record.recist, {
    ...o.roi,
    ...(record.window ? { window: record.window } : {}),
    category: record.category,
  });
}

export interface LesionMaskOk extends RoiMaskResult {
  ok: true;
  record: LesionRecord;
  /** The image the mask belongs to (data included; write the mask on its grid). */
  image: Volume;
  roi: Roi;
  /** The mask on the RECIST slice, ni * nj values. */
  sliceMask: Uint8Array;
}

export interface LesionMaskFailed {
  ok: false;
  record: LesionRecord;
  error: Recist3dError;
}

export type LesionMaskResult = LesionMaskOk | LesionMaskFailed;

/**
 * Generates masks for `records`, calling `onResult` once per lesion in manifest order (awaited, so a writer
 * can apply back-pressure). Returns the counts.
 */
export async function generateCohortMasks(
  records: readonly LesionRecord[],
  onResult: (r: LesionMaskResult) => void | Promise<void>,
  options: CohortMaskOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<{ ok: number; failed: number; fallback: number }> {
  const o = resolveOptions(DEFAULTS, options);
  const counts = { ok: 0, failed: 0, fallback: 0 };
  const cache = new Map<string, Promise<Volume>>();
  const load = (path: string) => {
    let p = cache.get(path);
    if (!p) {
      if (cache.size >= 2) cache.delete(cache.keys().next().value!);
      p = readNifti(path);
      cache.set(path, p);
    }
    return p;
  };
  for (let start = 0; start < records.length; start += o.batchSize) {
    const chunk = records.slice(start, start + o.batchSize);
    const prepared: { record: LesionRecord; image: Volume; roi: Roi; ms: number }[] = [];
    const results = new Map<LesionRecord, LesionMaskResult>();
    for (const record of chunk) {
      const t0 = performance.now();
      try {
        const image = await load(record.imagePath);
        prepared.push({ record, image, roi: lesionRoi(record, image, o), ms: performance.now() - t0 });
      } catch (e) {
        results.set(record, { ok: false, record, error: asLesionError(e, record) });
      }
    }
    const masks = await masksForRois(
      prepared.map((p) => p.roi),
      { ...o, batchSize: Math.max(1, prepared.length) },
      engine,
    );
    prepared.forEach((p, k) => {
      const m = masks[k];
      const sliceMask = roiMaskToSlice(m.mask, p.roi.geometry);
      results.set(p.record, {
        ok: true,
        ...m,
        timeMs: m.timeMs + p.ms,
        record: p.record,
        image: p.image,
        roi: p.roi,
        sliceMask,
      });
    });
    for (const record of chunk) {
      const r = results.get(record)!;
      if (r.ok) {
        counts.ok++;
        if (r.fallback) counts.fallback++;
      } else counts.failed++;
      await onResult(r);
    }
  }
  return counts;
}
