/**
 * Plans and generates a phantom cohort: patients with one or two lesions, some with a follow-up study
 * in which every lesion has grown or shrunk by a known volume ratio, unevenly along its own axes (so its
 * proportions change and the RECIST ellipsoid does not follow the volume exactly), split train/val/test by
 * patient.
 */
import { Recist3dError } from '../errors.js';
import { recistFromMask, type RecistFromMaskResult } from '../recist/from-mask.js';
import type { Split } from '../types/recist.js';
import { resolve } from 'node:path';
import { createRng, type Rng } from '../util/random.js';
import { listShapeFiles } from './library.js';
import { CATEGORY_STATS } from './deeplesion-stats.js';
import { generatePhantom, type Phantom, type PhantomSpec } from './phantom.js';
import { sampleGrowthAxes } from './shape.js';
import type { Vec3 } from '../types/volume.js';
import {
  allocateCategories,
  sampleInPlaneSpacing,
  sampleSize,
  sampleSliceSpacing,
  shuffle,
  type PhantomCategory,
} from './sample.js';
import { resolveOptions } from '../util/options.js';

export interface CohortOptions {
  /** Number of lesion studies (volumes) to generate, follow-up studies included. */
  lesions?: number;
  /** Seed of everything; the same options always give identical volumes. */
  seed?: number;
  /** Fraction of patients who get a second (follow-up) study. */
  followUpFraction?: number;
  /** Fraction of lesions touched by a neighbouring structure of similar density. */
  touchingFraction?: number;
  /** Fractions of patients in train, val and test. */
  splitFractions?: [number, number, number];
  /** Baseline long axes are drawn from DeepLesion's distribution restricted to [minLongMm, maxLongMm]. */
  minLongMm?: number;
  maxLongMm?: number;
  /** Follow-up volume ratios are drawn log-uniformly from [min, max] (shrinking to growing). */
  volumeRatioRange?: [number, number];
  /**
   * Uneven follow-up growth: standard deviation of the log growth factor along each of the lesion's own
   * axes (normalised so the volume ratio is unchanged); 0 = the follow-up is a uniformly scaled baseline.
   */
  growthAxisSigma?: number;
  /**
   * Folder of real lesion masks by kind (e.g. $RECIST3D_SHARED_DATA/lesion-shapes); '' = procedural shapes
   * only. Missing folders fall back to procedural shapes.
   */
  shapeLibraryDir?: string;
  /** Fraction of lesions that take a real shape when a library is given. */
  shapeLibraryFraction?: number;
}

export const COHORT_DEFAULTS = {
  lesions: 200,
  seed: 1,
  followUpFraction: 0.25,
  touchingFraction: 0.2,
  splitFractions: [0.7, 0.1, 0.2],
  minLongMm: 6,
  maxLongMm: 60,
  volumeRatioRange: [0.35, 2.8],
  growthAxisSigma: 0.18,
  shapeLibraryDir: '',
  shapeLibraryFraction: 0.5,
} satisfies Required<CohortOptions>;

/** One planned study of one lesion: identifiers, labels, and the phantom recipe. */
export interface PlannedStudy {
  lesionId: string;
  /** The lesion across studies (lesion id without the `_t<n>` suffix), manifest column `track_id`. */
  trackId: string;
  patientId: string;
  /** YYYYMMDD. */
  studyDate: string;
  /** 0 = baseline, 1 = follow-up. */
  timepoint: 0 | 1;
  split: Split;
  category: PhantomCategory;
  touching: boolean;
  /**
   * True lesion volume of this study over the baseline's, by construction (1 at baseline): the follow-up
   * lesion is a linear map of the baseline one with this determinant; the rendered masks agree up to
   * voxelisation (`volume_mm3` holds the mask volumes).
   */
  volumeRatio: number;
  /** HU window for display (DeepLesion's most common window of the category). */
  windowHu: [number, number];
  spec: PhantomSpec;
}

/** A generated study: the plan, the volumes and the reader-style RECIST measured on the GT mask. */
export interface CohortCase extends PlannedStudy, Phantom {
  recist: RecistFromMaskResult;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');

function dateAfter(days: number): string {
  const d = new Date(Date.UTC(2019, 0, 1) + Math.round(days) * 86400000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`;
}

function validateOptions(o: Required<CohortOptions>): void {
  const bad = (field: string, expected: string, got: unknown): never => {
    throw new Recist3dError(
      'E_CONFIG',
      `Expected ${expected} for ${field} but received ${JSON.stringify(got)}`,
      {
        field,
      },
    );
  };
  if (!(Number.isInteger(o.lesions) && o.lesions >= 1)) bad('lesions', 'a positive integer', o.lesions);
  for (const f of ['followUpFraction', 'touchingFraction', 'shapeLibraryFraction'] as const)
    if (!(o[f] >= 0 && o[f] <= 1)) bad(f, 'a number in [0, 1]', o[f]);
  const sum = o.splitFractions.reduce((a, b) => a + b, 0);
  if (o.splitFractions.some((f) => !(f >= 0)) || Math.abs(sum - 1) > 1e-6)
    bad('splitFractions', 'three non-negative fractions summing to 1', o.splitFractions);
  if (!(o.minLongMm >= 3 && o.maxLongMm > o.minLongMm && o.maxLongMm <= 120))
    bad('minLongMm/maxLongMm', '3 <= minLongMm < maxLongMm <= 120', [o.minLongMm, o.maxLongMm]);
  const [lo, hi] = o.volumeRatioRange;
  if (!(lo > 0 && hi >= lo)) bad('volumeRatioRange', '0 < min <= max', o.volumeRatioRange);
  if (!(o.growthAxisSigma >= 0 && o.growthAxisSigma <= 0.5))
    bad('growthAxisSigma', 'a number in [0, 0.5]', o.growthAxisSigma);
}

/** Lays out patients, lesions, studies, categories, sizes, spacings and splits. Cheap; no voxels. */
export function planCohort(options: CohortOptions = {}): PlannedStudy[] {
  const o = resolveOptions(COHORT_DEFAULTS, options);
  validateOptions(o);
  const rng = createRng(`cohort:${o.seed}`);
  // 1. patients: 1-2 lesions, maybe a follow-up; keep enough single studies for 8 distinct lesions
  const needUnique = Math.min(8, o.lesions);
  const patients: { nLesions: number; followUp: boolean }[] = [];
  let studies = 0;
  let unique = 0;
  while (studies < o.lesions) {
    const left = o.lesions - studies;
    let nLesions = rng.next() < 0.3 ? 2 : 1;
    let followUp = rng.next() < o.followUpFraction;
    if (nLesions * (followUp ? 2 : 1) > left || left - nLesions * 2 < needUnique - unique - nLesions)
      followUp = false;
    nLesions = Math.min(nLesions, left);
    patients.push({ nLesions, followUp });
    studies += nLesions * (followUp ? 2 : 1);
    unique += nLesions;
  }
  // 2. per-lesion labels: categories with DeepLesion's frequencies, an exact touching fraction
  const categories = allocateCategories(rng, unique);
  const touching = shuffle(
    rng,
    Array.from({ length: unique }, (_, t) => t < Math.round(o.touchingFraction * unique)),
  );
  // 3. splits by patient
  const order = shuffle(
    rng,
    patients.map((_, t) => t),
  );
  const split = new Array<Split>(patients.length);
  const nTrain = Math.round(o.splitFractions[0] * patients.length);
  const nVal = Math.round(o.splitFractions[1] * patients.length);
  order.forEach((p, t) => (split[p] = t < nTrain ? 'train' : t < nTrain + nVal ? 'val' : 'test'));
  // 4. studies
  const out: PlannedStudy[] = [];
  let lesionIndex = 0;
  patients.forEach((p, pi) => {
    const patientId = `P${pad(pi + 1, 4)}`;
    const spacingMm: [number, number, number] = [0, 0, sampleSliceSpacing(rng)];
    spacingMm[0] = spacingMm[1] = sampleInPlaneSpacing(rng);
    const day0 = rng.uniform(0, 1400);
    const day1 = day0 + rng.uniform(60, 240);
    const [lo, hi] = o.volumeRatioRange;
    for (let l = 0; l < p.nLesions; l++, lesionIndex++) {
      const category = categories[lesionIndex];
      const size = sampleSize(rng, category, o.minLongMm, o.maxLongMm);
      // follow-up volume ratio; a lesion may not shrink below minLongMm
      let ratio = Math.exp(rng.uniform(Math.log(lo), Math.log(hi)));
      if (ratio < 1 && size.longMm * Math.cbrt(ratio) < o.minLongMm) ratio = Math.min(hi, 1 / ratio);
      const base = `${patientId}_L${l + 1}`;
      // uneven growth along the lesion's own axes, from its own stream (the cohort's draws stay as they were)
      const axes: Vec3 = p.followUp
        ? sampleGrowthAxes(createRng(`growth:${o.seed}:${base}`), o.growthAxisSigma)
        : [1, 1, 1];
      // at least 2.5 pixels across the short axis in every study, so RECIST is always measurable
      const minScale = p.followUp ? Math.min(1, Math.cbrt(ratio) * Math.min(...axes)) : 1;
      const minShort = (2.5 * spacingMm[0]) / (size.longMm * minScale);
      size.shortOverLong = Math.min(1, Math.max(size.shortOverLong, minShort));
      const shapeFile = o.shapeLibraryDir
        ? pickShapeFile(rng, o.shapeLibraryDir, category, o.shapeLibraryFraction)
        : '';
      const maxScale = p.followUp ? Math.max(1, Math.cbrt(ratio) * Math.max(...axes)) : 1;
      for (let t = 0; t < (p.followUp ? 2 : 1); t++) {
        const lesionId = `${base}_t${t}`;
        out.push({
          lesionId,
          trackId: base,
          patientId,
          studyDate: dateAfter(t === 0 ? day0 : day1),
          timepoint: t as 0 | 1,
          split: split[pi],
          category,
          touching: touching[lesionIndex],
          volumeRatio: t === 0 ? 1 : ratio,
          windowHu: [...CATEGORY_STATS[category].windowHu] as [number, number],
          spec: {
            lesionId,
            category,
            anatomySeed: `${o.seed}:${base}`,
            scanSeed: `${o.seed}:${lesionId}`,
            longMm: size.longMm,
            shortOverLong: size.shortOverLong,
            spacingMm: [...spacingMm],
            touching: touching[lesionIndex],
            scale: t === 0 ? 1 : Math.cbrt(ratio),
            growthAxes: t === 0 ? [1, 1, 1] : [...axes],
            maxScale,
            ...(shapeFile ? { shapeFile } : {}),
          },
        });
      }
    }
  });
  return out;
}

/** A real shape file for a lesion (absolute path), or '' for a procedural shape. */
function pickShapeFile(rng: Rng, dir: string, category: PhantomCategory, fraction: number): string {
  const files = listShapeFiles(dir, category);
  const u = rng.next();
  const pick = rng.int(Math.max(1, files.length));
  return files.length > 0 && u < fraction ? resolve(dir, files[pick]) : '';
}

/** Renders one planned study and measures its RECIST on the GT mask. */
export function generateStudy(plan: PlannedStudy): CohortCase {
  const phantom = generatePhantom(plan.spec);
  const recist = recistFromMask(phantom.mask, { context: { lesionId: plan.lesionId } });
  return { ...plan, ...phantom, recist };
}

/**
 * Generates the cohort study by study (a generator, so only one volume is in memory at a time).
 * Deterministic in `options`.
 */
export function* generateCohort(options: CohortOptions = {}): Generator<CohortCase> {
  for (const plan of planCohort(options)) yield generateStudy(plan);
}
