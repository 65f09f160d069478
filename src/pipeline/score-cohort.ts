/**
 * Segments every lesion stack with one method, writes the masks (optional), and scores them against the
 * ground truth when the manifest has it: per-lesion outcomes, 3D and key-slice metric summaries, Dice by
 * slice offset and the pooled precision-recall histogram of the method's maps. Failures are per lesion.
 */
import { join } from 'node:path';
import { readMask, writeNifti } from '../io/nifti.js';
import { MetricsAccumulator, meanStd, type MetricsReport } from '../metrics/aggregate.js';
import { PrAccumulator } from '../metrics/pr-curve.js';
import type { SegmentationMetrics } from '../metrics/segmentation.js';
import { ellipsoidVolumeMm3 } from '../recist/validate.js';
import { scoreLesion, type LesionScores } from '../metrics/score-3d.js';
import { type Lesion3dResult } from '../steps/5-segment-3d.js';
import { ellipsoidLesion3d } from '../steps/ellipsoid.js';
import type { VersusEllipsoid } from '../report/run-report.js';
import { type LesionStack } from '../types/stack.js';
import { cropToFull, fullToCrop } from '../geometry/crop-mask.js';
import { maskFileName } from '../io/mask-file-name.js';

/** The scores of the RECIST ellipsoid of a lesion. */
export interface EllipsoidScores {
  metrics3d: SegmentationMetrics;
  metricsKey: SegmentationMetrics;
}

export interface LesionOutcome {
  record: LesionStack['record'];
  result?: Lesion3dResult;
  ellipsoidMm3: number;
  longMm: number;
  shortMm: number;
  scores?: {
    metrics3d: SegmentationMetrics;
    metricsKey: SegmentationMetrics;
    diceByOffset: Map<number, number>;
  };
  /** The RECIST ellipsoid's scores on the same truth (the image-free reference; steps/ellipsoid). */
  ellipsoidScores?: EllipsoidScores;
  error?: { code: string; message: string };
  fallbacks: number;
}

export interface CohortScores {
  lesions: LesionOutcome[];
  metrics3d?: MetricsReport | undefined;
  metricsKey?: MetricsReport | undefined;
  /** [offset, mean Dice, lesions] sorted by offset. */
  diceByOffset: [number, number, number][];
  pr?: PrAccumulator | undefined;
  /** Per category: the masks against the RECIST ellipsoid on the lesions with ground truth. */
  versusEllipsoid?: VersusEllipsoid[] | undefined;
}

export interface ScoreCohortOptions {
  /** Folder to write `<lesion_id>.nii.gz` masks into (none when absent). */
  masksDir?: string;
  /** QC: number of fallback labels per lesion. */
  fallbacks?: (lesionId: string) => number;
  onLesion?: (done: number, lesionId: string) => void;
}

const pick = (m: SegmentationMetrics) => ({
  dice: m.dice,
  precision: m.precision,
  recall: m.recall,
  volumetricSimilarity: m.volumetricSimilarity,
  avdMm: m.avdMm,
});

export async function scoreCohort(
  stacks: readonly LesionStack[],
  segment: (s: LesionStack) => Promise<Lesion3dResult>,
  options: ScoreCohortOptions = {},
): Promise<CohortScores> {
  const lesions: LesionOutcome[] = [];
  const acc = new CohortAccumulator();
  for (const [i, s] of stacks.entries()) {
    const base: LesionOutcome = {
      record: s.record,
      ellipsoidMm3: ellipsoidVolumeMm3(s.longMm, s.shortMm),
      longMm: s.longMm,
      shortMm: s.shortMm,
      fallbacks: options.fallbacks?.(s.record.lesionId) ?? 0,
    };
    try {
      lesions.push(await segmentAndScore(s, base, segment, options.masksDir, acc));
    } catch (e) {
      const err = e as { code?: string; message?: string };
      lesions.push({ ...base, error: { code: err.code ?? 'E_PIPELINE', message: err.message ?? String(e) } });
    }
    options.onLesion?.(i + 1, s.record.lesionId);
  }
  return { lesions, ...acc.result() };
}

/** Segments one lesion, writes its mask, scores it against the truth when there is one. */
async function segmentAndScore(
  s: LesionStack,
  base: LesionOutcome,
  segment: (s: LesionStack) => Promise<Lesion3dResult>,
  masksDir: string | undefined,
  acc: CohortAccumulator,
): Promise<LesionOutcome> {
  const result = await segment(s);
  if (masksDir) {
    const full = cropToFull(result.mask, s.image.size);
    await writeNifti(join(masksDir, maskFileName(s.record.lesionId)), { ...s.image, data: full });
  }
  const outcome: LesionOutcome = { ...base, result };
  if (s.record.maskPath) {
    const truth = await readMask(s.record.maskPath);
    const score = (mask: Lesion3dResult['mask']) =>
      scoreLesion(mask, truth.data, s.image.size, s.image.spacingMm, s.record.keySlice);
    outcome.scores = score(result.mask);
    const ell = score(ellipsoidLesion3d(s).mask);
    outcome.ellipsoidScores = { metrics3d: ell.metrics3d, metricsKey: ell.metricsKey };
    acc.add(s.record.category, outcome.scores, outcome.ellipsoidScores);
    acc.pr.add(result.prob, fullToCrop(truth.data, s.image.size, result.mask.start, result.mask.size));
  }
  // the maps are only needed for the PR curve; drop them so a large cohort stays small in memory
  return { ...outcome, result: { ...result, prob: new Float32Array(0) } };
}

/**
 * The cohort summaries of per-lesion outcomes scored elsewhere (the ranks of a distributed job), in the order
 * given, with their pooled PR histograms: what scoreCohort returns for the same lesions in the same order.
 */
export function mergeCohortScores(
  lesions: readonly LesionOutcome[],
  prs: readonly PrAccumulator[],
): Omit<CohortScores, 'lesions'> {
  const acc = new CohortAccumulator();
  for (const l of lesions)
    if (l.scores && l.ellipsoidScores) acc.add(l.record.category, l.scores, l.ellipsoidScores);
  for (const p of prs) acc.pr.merge(p);
  return acc.result();
}

/** Metric summaries, Dice by slice offset and the pooled PR histogram over the scored lesions. */
class CohortAccumulator {
  readonly #acc3d = new MetricsAccumulator();
  readonly #accKey = new MetricsAccumulator();
  readonly #offsets = new Map<number, number[]>();
  /** The pooled histogram of the maps against the truth (added to by the caller, who has the maps). */
  readonly pr = new PrAccumulator();
  readonly #pairs: { category: string; mask: LesionScores; ell: EllipsoidScores }[] = [];

  add(category: string, scores: LesionScores, ell: EllipsoidScores): void {
    this.#pairs.push({ category, mask: scores, ell });
    this.#acc3d.add(category, pick(scores.metrics3d));
    this.#accKey.add(category, pick(scores.metricsKey));
    for (const [off, d] of scores.diceByOffset)
      this.#offsets.set(off, [...(this.#offsets.get(off) ?? []), d]);
  }

  result(): Omit<CohortScores, 'lesions'> {
    const diceByOffset = [...this.#offsets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(
        ([off, ds]) =>
          [off, ds.reduce((a, b) => a + b, 0) / ds.length, ds.length] as [number, number, number],
      );
    const scored = this.#acc3d.count > 0;
    return {
      metrics3d: scored ? this.#acc3d.report() : undefined,
      metricsKey: scored ? this.#accKey.report() : undefined,
      diceByOffset,
      pr: scored ? this.pr : undefined,
      versusEllipsoid: scored ? this.#versusEllipsoid() : undefined,
    };
  }

  #versusEllipsoid(): VersusEllipsoid[] {
    const cats = [...new Set(this.#pairs.map((p) => p.category))].sort();
    const summary = (
      category: string,
      ps: { mask: LesionScores; ell: EllipsoidScores }[],
    ): VersusEllipsoid => {
      const pair = (f: (m: { metrics3d: SegmentationMetrics; metricsKey: SegmentationMetrics }) => number) =>
        [meanStd(ps.map((p) => f(p.mask))).mean, meanStd(ps.map((p) => f(p.ell))).mean] as [number, number];
      return {
        category,
        n: ps.length,
        dice3d: pair((m) => m.metrics3d.dice),
        precision3d: pair((m) => m.metrics3d.precision),
        recall3d: pair((m) => m.metrics3d.recall),
        avdMm: pair((m) => m.metrics3d.avdMm),
        volumeError: pair((m) => volumeError(m.metrics3d)),
        diceKey: pair((m) => m.metricsKey.dice),
      };
    };
    return [
      ...cats.map((c) =>
        summary(
          c,
          this.#pairs.filter((p) => p.category === c),
        ),
      ),
      summary('all', this.#pairs),
    ];
  }
}

/** |V - V_truth| / V_truth of a mask's confusion counts (NaN without truth voxels). */
export function volumeError(m: SegmentationMetrics): number {
  const truth = m.tp + m.fn;
  return truth > 0 ? Math.abs(m.tp + m.fp - truth) / truth : Number.NaN;
}
