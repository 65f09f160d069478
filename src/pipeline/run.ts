/**
 * `recist3d run`: trains WSSS on a manifest, writes one 3D mask per lesion on its input grid, a per-lesion CSV
 * (volumes, RECIST ellipsoid, auto-RECIST, slices, QC flags, scores when ground truth exists), metrics.json and
 * the HTML report. A lesion that fails is reported in the CSV and never stops the cohort.
 */
import { join, resolve } from 'node:path';
import { loadManifest } from '../io/manifest.js';
import { csvText, fixedCell } from '../io/csv.js';
import { mergeCohortScores, scoreCohort, type CohortScores, type LesionOutcome } from './score-cohort.js';
import { segmentLesion3d, type Segment3dOptions } from '../steps/5-segment-3d.js';
import { resolveWsssOptions, trainWsss, type WsssHooks, type WsssOptions, type WsssResult } from './wsss.js';
import { galleryPicks, writeRunReport } from '../report/run-report.js';
import { buildStacks } from '../steps/1-roi-stacks.js';
import { lesionShards } from './lesion-shards.js';
import { gatherOutcomes, withMaskFromFile } from './outcome-shards.js';
import { type LesionStack } from '../types/stack.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';
import { provenance } from '../util/provenance.js';
import { maskFileName } from '../io/mask-file-name.js';
import { recistMismatch } from '../recist/qc.js';
import { inputLayoutOf } from '../model/infer.js';

export interface RunOptions extends WsssOptions {
  segment?: Segment3dOptions;
  /** Write the HTML report. */
  report?: boolean;
}

export interface RunSummary extends CohortScores {
  wsss: Omit<WsssResult, 'net' | 'stacks'>;
  stageSeconds: Record<string, number>;
  totalSeconds: number;
  /** The ranks of a distributed run (absent: one process); times and peak memory are rank 0's. */
  ranks?: number;
}

const CSV_COLUMNS = [
  'lesion_id',
  'patient_id',
  'study_date',
  'category',
  'split',
  'status',
  'error',
  'mask',
  'volume_mm3',
  'recist_ellipsoid_mm3',
  'recist_long_mm',
  'recist_short_mm',
  'auto_long_mm',
  'auto_short_mm',
  'slice_first',
  'slice_last',
  'n_slices',
  'qc_empty',
  'qc_touches_roi_border',
  'qc_key_threshold_lowered',
  'qc_ended_by_confidence',
  'qc_recist_mismatch',
  'qc_label_fallbacks',
  'dice_3d',
  'precision_3d',
  'recall_3d',
  'vs_3d',
  'avd_mm_3d',
  'dice_key',
  'ellipsoid_dice_3d',
  'ellipsoid_dice_key',
] as const;

/**
 * Runs the main job; `hooks` drive the progress display. In a joined process group (docs/distributed.md) each
 * rank segments its own lesions and rank 0 merges every rank's outcomes and writes lesions.csv, metrics.json
 * and report.html; the summary is then the merged one on rank 0 and this rank's own lesions on the others.
 */
export async function runPipeline(
  manifestPath: string,
  outDir: string,
  options: RunOptions = {},
  hooks: WsssHooks = {},
): Promise<RunSummary> {
  const t0 = performance.now();
  const records = await loadManifest(manifestPath);
  const wsss = await trainWsss(records, outDir, options, hooks);
  const { net, stacks, ...wsssInfo } = wsss;
  const stageSeconds = { ...wsss.stageSeconds };
  let scores: CohortScores;
  try {
    hooks.stage?.('segment-3d', stacks.length);
    const tSeg = performance.now();
    const segment = { ...options.segment, layout: inputLayoutOf(wsss.input) };
    scores = await scoreCohort(stacks, (s) => segmentLesion3d(net, s, segment), {
      masksDir: join(outDir, 'masks'),
      fallbacks: (id) => (wsss.labelSources.get(id) ?? []).filter((x) => x.includes('fallback')).length,
      onLesion: (done, id) => hooks.tick?.(done, id),
    });
    stageSeconds['segment-3d'] = (performance.now() - tSeg) / 1000;
    hooks.stageEnd?.('segment-3d', stageSeconds['segment-3d']);
  } finally {
    net.dispose();
  }
  const failed = wsss.failures.map(failedOutcome);
  const summary: RunSummary = {
    ...scores,
    lesions: [...scores.lesions, ...failed],
    wsss: wsssInfo,
    stageSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
  };
  const shards = lesionShards(records);
  if (!shards) {
    await writeRunOutputs(outDir, manifestPath, options, summary, stacks);
    return summary;
  }
  // distributed: rank 0 merges every rank's outcomes (the exchange is the barrier after segment-3d)
  const merged = await gatherOutcomes(shards, join(outDir, 'work'), records, {
    segmented: scores.lesions,
    failed,
    pr: scores.pr,
  });
  if (!merged) return summary;
  const all: RunSummary = {
    ...summary,
    ...mergeCohortScores(merged.lesions, merged.prs),
    lesions: merged.lesions,
    ranks: shards.worldSize,
    totalSeconds: (performance.now() - t0) / 1000,
  };
  await writeRunOutputs(
    outDir,
    manifestPath,
    options,
    all,
    await galleryStacks(all, stacks, outDir, options),
  );
  return all;
}

/**
 * Rank 0 of a distributed run: the stacks of the report's gallery lesions (built here when another rank held
 * them), whose outcomes get their masks back from `masks/`.
 */
async function galleryStacks(
  summary: RunSummary,
  own: readonly LesionStack[],
  outDir: string,
  options: RunOptions,
): Promise<LesionStack[]> {
  const { picks } = galleryPicks(
    summary,
    summary.lesions.filter((l) => l.result),
  );
  const byId = new Map(own.map((s) => [s.record.lesionId, s]));
  const out: LesionStack[] = [];
  for (const l of picks) {
    if (!l) continue;
    try {
      const withMask = await withMaskFromFile(outDir, l);
      const s = byId.get(l.record.lesionId);
      const [built] = s
        ? [{ ok: true as const, stack: s }]
        : await buildStacks([l.record], resolveWsssOptions(options).stack);
      if (!built.ok) continue;
      summary.lesions[summary.lesions.indexOf(l)] = withMask;
      out.push(built.stack);
    } catch {
      // the gallery leaves out a lesion whose mask or image cannot be read back; the tables do not need them
    }
  }
  return out;
}

function failedOutcome(f: WsssResult['failures'][number]): LesionOutcome {
  return {
    record: f.record,
    ellipsoidMm3: Number.NaN,
    longMm: Number.NaN,
    shortMm: Number.NaN,
    error: { code: f.error.code, message: f.error.message },
    fallbacks: 0,
  };
}

/** lesions.csv, metrics.json and (unless `report: false`) report.html. */
async function writeRunOutputs(
  outDir: string,
  manifestPath: string,
  options: RunOptions,
  summary: RunSummary,
  stacks: readonly LesionStack[],
): Promise<void> {
  await writeFileAtomic(join(outDir, 'lesions.csv'), lesionsCsv(summary.lesions));
  await writeJsonAtomic(join(outDir, 'metrics.json'), {
    provenance: provenance({ options }),
    manifest: resolve(manifestPath),
    lesions: summary.lesions.length,
    failed: summary.lesions.filter((l) => l.error).length,
    excludedFromTraining: summary.wsss.excluded,
    rounds: summary.wsss.rounds,
    /** HNN-SR: the stacked GAN whose denoised and enhanced images the network took (null: none). */
    sr: summary.wsss.input.sr,
    stageSeconds: summary.stageSeconds,
    totalSeconds: summary.totalSeconds,
    /** Peak resident memory of this process so far (kB -> MB). */
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(summary.ranks ? { ranks: summary.ranks } : {}),
    metrics3d: summary.metrics3d,
    metricsKey: summary.metricsKey,
    diceByOffset: summary.diceByOffset,
    versusEllipsoid: summary.versusEllipsoid,
    prCurve: summary.pr ? { maxF: summary.pr.maxF(), histogram: summary.pr.toJSON() } : undefined,
  });
  if (options.report !== false) await writeRunReport(join(outDir, 'report.html'), summary, [...stacks]);
}

function lesionsCsv(lesions: LesionOutcome[]): string {
  return csvText(
    CSV_COLUMNS,
    lesions.map((l) => {
      const r = l.result;
      const m = l.scores?.metrics3d;
      return [
        l.record.lesionId,
        l.record.patientId ?? '',
        l.record.studyDate ?? '',
        l.record.category,
        l.record.split ?? '',
        l.error ? 'failed' : 'ok',
        l.error ? `${l.error.code}: ${l.error.message}` : '',
        r ? `masks/${maskFileName(l.record.lesionId)}` : '',
        fixedCell(r?.volumeMm3, 1),
        fixedCell(l.ellipsoidMm3, 1),
        fixedCell(l.longMm, 2),
        fixedCell(l.shortMm, 2),
        fixedCell(r?.autoLongMm, 2),
        fixedCell(r?.autoShortMm, 2),
        r && !r.flags.empty ? r.sliceRange[0] : '',
        r && !r.flags.empty ? r.sliceRange[1] : '',
        r && !r.flags.empty ? r.sliceRange[1] - r.sliceRange[0] + 1 : '',
        r ? +r.flags.empty : '',
        r ? +r.flags.touchesRoiBorder : '',
        r ? +r.flags.keyThresholdLowered : '',
        r ? +r.flags.endedByConfidence : '',
        r ? +recistMismatch(l, { longMm: r.autoLongMm, shortMm: r.autoShortMm }) : '',
        l.fallbacks,
        fixedCell(m?.dice, 4),
        fixedCell(m?.precision, 4),
        fixedCell(m?.recall, 4),
        fixedCell(m?.volumetricSimilarity, 4),
        fixedCell(m?.avdMm, 3),
        fixedCell(l.scores?.metricsKey.dice, 4),
        fixedCell(l.ellipsoidScores?.metrics3d.dice, 4),
        fixedCell(l.ellipsoidScores?.metricsKey.dice, 4),
      ];
    }),
  );
}
