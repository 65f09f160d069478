/**
 * `recist3d run`: trains WSSS on a manifest, writes one 3D mask per lesion on its input grid, a per-lesion CSV
 * (volumes, RECIST ellipsoid, auto-RECIST, slices, QC flags, scores when ground truth exists), metrics.json and
 * the HTML report. A lesion that fails is reported in the CSV and never stops the cohort.
 */
import { join } from 'node:path';
import { readMask } from '../io/nifti.js';
import { loadManifest } from '../io/manifest.js';
import { csvText, fixedCell } from '../io/csv.js';
import { maskFileName } from '../pseudo/write-masks.js';
import { sliceMaskToRoi } from '../geometry/roi.js';
import { provenance, writeFileAtomic, writeJsonAtomic } from './artifacts.js';
import { scoreCohort, type CohortScores, type LesionOutcome } from './score-cohort.js';
import { segmentLesion3d, type Segment3dOptions } from './segment3d.js';
import type { LesionStack } from './stack.js';
import { trainWsss, type WsssHooks, type WsssOptions, type WsssResult } from './wsss.js';
import { writeRunReport } from './run-report.js';

export interface RunOptions extends WsssOptions {
  segment?: Segment3dOptions;
  /** Write the HTML report. */
  report?: boolean;
}

export interface RunSummary extends CohortScores {
  wsss: Omit<WsssResult, 'net' | 'stacks'>;
  stageSeconds: Record<string, number>;
  totalSeconds: number;
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
  'qc_label_fallbacks',
  'dice_3d',
  'precision_3d',
  'recall_3d',
  'vs_3d',
  'avd_mm_3d',
  'dice_key',
] as const;

/** Runs the main job; `hooks` drive the progress display. */
export async function runPipeline(
  manifestPath: string,
  outDir: string,
  options: RunOptions = {},
  hooks: WsssHooks = {},
): Promise<RunSummary> {
  const t0 = performance.now();
  const records = await loadManifest(manifestPath);
  const truthCache = new Map<string, Uint8Array>();
  const truthKey = (s: LesionStack) => {
    if (!s.record.maskPath) return undefined;
    return truthCache.get(s.record.lesionId);
  };
  if (options.labels === 'full') {
    for (const r of records) {
      if (!r.maskPath) continue;
      // an unreadable mask leaves that lesion without a label (training says so if none is left)
      const m = await readMask(r.maskPath).catch(() => undefined);
      if (!m) continue;
      const plane = m.size[0] * m.size[1];
      truthCache.set(r.lesionId, m.data.slice(r.keySlice * plane, (r.keySlice + 1) * plane));
    }
  }
  const wsss = await trainWsss(records, outDir, options, hooks, (s) => {
    const slice = truthKey(s);
    return slice ? sliceMaskToRoi(slice, s.keyRoi.geometry) : undefined;
  });
  const { net, stacks, ...wsssInfo } = wsss;
  const stageSeconds = { ...wsss.stageSeconds };
  let scores: CohortScores;
  try {
    hooks.stage?.('segment-3d', stacks.length);
    const tSeg = performance.now();
    scores = await scoreCohort(stacks, (s) => segmentLesion3d(net, s, options.segment), {
      masksDir: join(outDir, 'masks'),
      fallbacks: (id) => (wsss.labelSources.get(id) ?? []).filter((x) => x.includes('fallback')).length,
      onLesion: (done, id) => hooks.tick?.(done, id),
    });
    stageSeconds['segment-3d'] = (performance.now() - tSeg) / 1000;
    hooks.stageEnd?.('segment-3d', stageSeconds['segment-3d']);
  } finally {
    net.dispose();
  }
  const lesions = scores.lesions;
  for (const f of wsss.failures) {
    lesions.push({
      record: f.record,
      ellipsoidMm3: Number.NaN,
      longMm: Number.NaN,
      shortMm: Number.NaN,
      error: { code: f.error.code, message: f.error.message },
      fallbacks: 0,
    });
  }
  const summary: RunSummary = {
    ...scores,
    lesions,
    wsss: wsssInfo,
    stageSeconds,
    totalSeconds: (performance.now() - t0) / 1000,
  };
  await writeFileAtomic(join(outDir, 'lesions.csv'), lesionsCsv(lesions));
  await writeJsonAtomic(join(outDir, 'metrics.json'), {
    provenance: provenance({ options }),
    lesions: lesions.length,
    failed: lesions.filter((l) => l.error).length,
    rounds: wsss.rounds,
    stageSeconds,
    totalSeconds: summary.totalSeconds,
    /** Peak resident memory of this process so far (kB -> MB). */
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    metrics3d: summary.metrics3d,
    metricsKey: summary.metricsKey,
    diceByOffset: summary.diceByOffset,
    prCurve: summary.pr ? { maxF: summary.pr.maxF(), histogram: summary.pr.toJSON() } : undefined,
  });
  if (options.report !== false) await writeRunReport(join(outDir, 'report.html'), summary, stacks);
  return summary;
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
        l.fallbacks,
        fixedCell(m?.dice, 4),
        fixedCell(m?.precision, 4),
        fixedCell(m?.recall, 4),
        fixedCell(m?.volumetricSimilarity, 4),
        fixedCell(m?.avdMm, 3),
        fixedCell(l.scores?.metricsKey.dice, 4),
      ];
    }),
  );
}
