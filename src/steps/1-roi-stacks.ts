/**
 * A lesion's ROI stack: the key-slice ROI geometry (2x the RECIST box, resampled to the working size) applied
 * to every slice the lesion may reach, cut once and kept in memory for all self-paced rounds.
 */
import { readNifti } from '../io/nifti.js';
import { DEFAULT_WINDOWS, extractRoi, type RoiOptions } from '../geometry/roi.js';
import { roiBoxOnSlice, sliceBoxSize } from '../geometry/roi-project.js';
import { lesionRoi } from '../pseudo/cohort.js';
import { segmentLengthMm } from '../recist/parse.js';
import type { LesionCategory, LesionRecord } from '../types/recist.js';
import type { LesionStack } from '../types/stack.js';
import type { Volume } from '../types/volume.js';
import type { Recist3dError } from '../errors.js';
import { asLesionError } from '../errors.js';
import { resolveOptions } from '../util/options.js';

export interface StackOptions {
  /** Working size of the square ROI in pixels (CNN input and GrabCut grid). */
  roiSize?: number;
  /** ROI side as a multiple of the RECIST bounding box (the paper: 2). */
  roiScale?: number;
  /** Extra slices beyond the estimated lesion end (half the long axis in z) that are cut and inferred. */
  marginSlices?: number;
  /** Never cut more than this many slices on each side of the key slice. */
  maxOffset?: number;
  /**
   * ROI beyond the image: 'reflect' (mirrored) or 'constant' -1024 HU. Reflect is the default because cropped
   * volumes (LIDC VOIs) otherwise hand GrabCut a background model of padding (docs/table1.md).
   */
  padMode?: 'constant' | 'reflect';
  /** The HU window of each category, for lesions whose manifest row gives none. */
  windows?: Record<LesionCategory, [number, number]>;
}

export const STACK_DEFAULTS = {
  roiSize: 64,
  roiScale: 2,
  marginSlices: 2,
  maxOffset: 24,
  padMode: 'reflect',
  windows: DEFAULT_WINDOWS,
} satisfies Required<StackOptions>;

/** Cuts the stack of one lesion from its image volume (validating the RECIST first). */
export function buildStack(record: LesionRecord, image: Volume, options: StackOptions = {}): LesionStack {
  const o = resolveOptions(STACK_DEFAULTS, options);
  const roiOpts: Omit<RoiOptions, 'window' | 'category'> = {
    sizePx: o.roiSize,
    scale: o.roiScale,
    padMode: o.padMode,
    categoryWindows: o.windows,
  };
  const keyRoi = lesionRoi(record, image, { roi: roiOpts });
  const [ni, nj, nk] = image.size;
  const longMm = segmentLengthMm(record.recist.long[0], record.recist.long[1], image.spacingMm);
  const shortMm = segmentLengthMm(record.recist.short[0], record.recist.short[1], image.spacingMm);
  const reach = Math.min(o.maxOffset, Math.ceil(longMm / 2 / image.spacingMm[2]) + o.marginSlices);
  const kMin = Math.max(0, record.keySlice - reach);
  const kMax = Math.min(nk - 1, record.keySlice + reach);
  const plane = ni * nj;
  const images: Uint8Array[] = [];
  for (let k = kMin; k <= kMax; k++) {
    if (k === record.keySlice) {
      images.push(keyRoi.image);
      continue;
    }
    const slice = image.data.subarray(k * plane, (k + 1) * plane);
    images.push(
      extractRoi(slice, [ni, nj], record.recist, {
        ...roiOpts,
        window: keyRoi.window,
        category: record.category,
      }).image,
    );
  }
  const box = roiBoxOnSlice(keyRoi.geometry);
  const [bw, bh] = sliceBoxSize(box);
  const hu = new Float32Array(bw * bh * (kMax - kMin + 1));
  for (let k = kMin, q = 0; k <= kMax; k++)
    for (let j = box[1]; j <= box[3]; j++)
      for (let i = box[0]; i <= box[2]; i++) hu[q++] = image.data[i + ni * (j + nj * k)];
  const { data: _data, ...grid } = image;
  return { record, image: grid, keyRoi, kMin, kMax, images, longMm, shortMm, boxHu: { box, data: hu } };
}

export type StackResult =
  { ok: true; stack: LesionStack } | { ok: false; record: LesionRecord; error: Recist3dError };

/**
 * Builds the stacks of a cohort, reading each image once (records sharing an image are grouped), and reports
 * per-lesion failures instead of throwing. `onEach` is called once per lesion (progress).
 */
export async function buildStacks(
  records: readonly LesionRecord[],
  options: StackOptions = {},
  onEach: (done: number, total: number) => void = () => {},
): Promise<StackResult[]> {
  const byImage = new Map<string, LesionRecord[]>();
  for (const r of records) byImage.set(r.imagePath, [...(byImage.get(r.imagePath) ?? []), r]);
  const results = new Map<LesionRecord, StackResult>();
  let done = 0;
  for (const [path, group] of byImage) {
    let image: Volume | undefined;
    let readError: unknown;
    try {
      image = await readNifti(path);
    } catch (e) {
      readError = e;
    }
    for (const record of group) {
      try {
        if (!image) throw readError;
        results.set(record, { ok: true, stack: buildStack(record, image, options) });
      } catch (e) {
        results.set(record, { ok: false, record, error: asLesionError(e, record) });
      }
      onEach(++done, records.length);
    }
  }
  return records.map((r) => results.get(r)!);
}

/**
 * The stacks of the RECIST slices alone (with `context` neighbouring slices on each side for a network that
 * takes them as input channels): what `train` and `segment` work on.
 */
export function buildKeyStacks(
  records: readonly LesionRecord[],
  options: StackOptions & { context?: number } = {},
  onEach?: (done: number, total: number) => void,
): Promise<StackResult[]> {
  const { context = 0, ...stack } = options;
  return buildStacks(records, { ...stack, maxOffset: context, marginSlices: context }, onEach);
}
