/** The self-contained report.html of a run: summary, metrics tables, plots and a best/median/worst gallery. */
import { readMask } from '../io/nifti.js';
import { sliceMaskToRoi } from '../geometry/roi.js';
import { METRIC_NAMES, formatStat, type MetricsReport } from '../metrics/aggregate.js';
import { renderReport, type Figure, type Table } from './html.js';
import { drawContour, drawSegment, hstack, pngDataUri, renderSlice, type Color, type Rgb } from './render.js';
import { lineChart } from './svg.js';
import type { Recist } from '../types/recist.js';
import type { PrAccumulator } from '../metrics/pr-curve.js';
import type { SegmentationMetrics } from '../metrics/segmentation.js';
import type { Lesion3dResult } from '../steps/5-segment-3d.js';
import type { LesionRecord } from '../types/recist.js';
import { type LesionStack } from '../types/stack.js';
import { cropToFull } from '../geometry/crop-mask.js';
import { estimatedRoiRecist } from '../recist/estimate3d.js';
import { writeFileAtomic } from '../util/fs.js';

/** One lesion of a run as the report sees it (pipeline/score-cohort's LesionOutcome). */
export interface ReportLesion {
  record: LesionRecord;
  result?: Lesion3dResult;
  ellipsoidMm3: number;
  scores?: { metrics3d: SegmentationMetrics };
  error?: { code: string; message: string };
}

/** One category's (or 'all') masks against the RECIST ellipsoid: means over its lesions with ground truth. */
export interface VersusEllipsoid {
  category: string;
  n: number;
  /** [masks, ellipsoid] pairs. */
  dice3d: [number, number];
  precision3d: [number, number];
  recall3d: [number, number];
  avdMm: [number, number];
  /** Mean |V - V_truth| / V_truth. */
  volumeError: [number, number];
  diceKey: [number, number];
}

/** What the report shows of a run (pipeline/run's RunSummary). */
export interface RunReportInput {
  lesions: ReportLesion[];
  metrics3d?: MetricsReport | undefined;
  metricsKey?: MetricsReport | undefined;
  /** [offset, mean Dice, lesions]. */
  diceByOffset: [number, number, number][];
  pr?: PrAccumulator | undefined;
  versusEllipsoid?: VersusEllipsoid[] | undefined;
  wsss: {
    rounds: {
      round: number;
      labels: number;
      harvest?: { slices: number; cnnFound: number; grabCutFallbacks: number } | undefined;
      epochs: number;
      bestValDice: number;
      resumed: boolean;
    }[];
  };
  stageSeconds: Record<string, number>;
  totalSeconds: number;
}

const METRIC_LABELS: Record<string, string> = {
  dice: 'Dice',
  precision: 'Precision',
  recall: 'Recall',
  volumetricSimilarity: 'VS',
  avdMm: 'AVD (mm)',
};

export function metricsTable(title: string, report: MetricsReport): Table {
  const row = (name: string, s: MetricsReport['overall']) => [
    name,
    s.n,
    ...METRIC_NAMES.map((m) => formatStat(s.stats[m])),
  ];
  return {
    title,
    columns: ['category', 'n', ...METRIC_NAMES.map((m) => METRIC_LABELS[m])],
    rows: [...Object.entries(report.byCategory).map(([c, s]) => row(c, s)), row('all', report.overall)],
    note: 'mean ± std over lesions',
  };
}

async function galleryFigure(label: string, l: ReportLesion, s: LesionStack): Promise<Figure> {
  const g = s.keyRoi.geometry;
  const n = g.sizePx;
  const zoom = Math.max(1, Math.round(160 / n));
  const full = l.result ? cropToFull(l.result.mask, s.image.size) : undefined;
  const truth = l.record.maskPath ? (await readMask(l.record.maskPath)).data : undefined;
  const plane = s.image.size[0] * s.image.size[1];
  const panels: Rgb[] = [];
  for (const off of [-2, -1, 0, 1, 2]) {
    const k = s.record.keySlice + off;
    if (k < s.kMin || k > s.kMax) continue;
    const img = s.images[k - s.kMin];
    const panel = renderSlice(img, n, n, { i0: 0, j0: 0, w: n, h: n }, [0, 255], zoom);
    const box = { i0: 0, j0: 0 };
    // truth in green, the mask in red
    const contours: [Uint8Array | undefined, Color][] = [
      [truth, [40, 220, 40]],
      [full, [235, 40, 40]],
    ];
    for (const [m, colour] of contours)
      if (m)
        drawContour(
          panel,
          sliceMaskToRoi(m.subarray(k * plane, (k + 1) * plane), g),
          n,
          n,
          box,
          zoom,
          colour,
        );
    const r: Recist | undefined = off === 0 ? s.keyRoi.recist : estimatedRoiRecist(s, k);
    if (r) for (const [a, b] of [r.long, r.short]) drawSegment(panel, a, b, box, zoom, [250, 220, 0]);
    panels.push(panel);
  }
  const d = l.scores?.metrics3d.dice;
  return {
    title: `${label}: ${l.record.lesionId} (${l.record.category})`,
    png: pngDataUri(hstack(panels)),
    caption: `slices ${s.record.keySlice - 2}..${s.record.keySlice + 2}${d !== undefined ? `, 3D Dice ${d.toFixed(3)}` : ''}, volume ${l.result?.volumeMm3.toFixed(0)} mm³`,
  };
}

export async function writeRunReport(
  path: string,
  summary: RunReportInput,
  stacks: LesionStack[],
): Promise<void> {
  const ok = summary.lesions.filter((l) => l.result);
  const failed = summary.lesions.filter((l) => l.error);
  const m = summary.metrics3d?.overall.stats;
  const html = renderReport({
    title: 'recist3d run report',
    subtitle: `Weakly supervised self-paced segmentation, ${summary.wsss.rounds.length - 1} self-paced round(s). Generated ${new Date().toISOString()}.`,
    facts: [
      ['lesions', summary.lesions.length],
      ['segmented', ok.length],
      ['failed', failed.length],
      ['empty masks', ok.filter((l) => l.result!.flags.empty).length],
      ['3D Dice (mean ± std)', m ? formatStat(m.dice, 3) : 'no ground truth'],
      [
        'RECIST-slice Dice',
        summary.metricsKey ? formatStat(summary.metricsKey.overall.stats.dice, 3) : 'no ground truth',
      ],
      ['total time (s)', summary.totalSeconds.toFixed(1)],
    ],
    tables: reportTables(summary, failed),
    figures: reportFigures(summary, ok),
    gallery: await galleryFigures(summary, ok, stacks),
  });
  await writeFileAtomic(path, html);
}

/** Metrics, self-paced rounds, stage timings and the failed lesions. */
function reportTables(summary: RunReportInput, failed: ReportLesion[]): Table[] {
  const tables: Table[] = [];
  if (summary.metrics3d)
    tables.push(metricsTable('3D segmentation (ground truth present)', summary.metrics3d));
  if (summary.metricsKey) tables.push(metricsTable('RECIST slice (2D)', summary.metricsKey));
  if (summary.versusEllipsoid) tables.push(versusEllipsoidTable(summary.versusEllipsoid));
  tables.push({
    title: 'Self-paced rounds',
    columns: [
      'round',
      'training labels',
      'harvested slices',
      'CNN found lesion',
      'GrabCut fallbacks',
      'epochs',
      'best val Dice (pseudo-labels)',
    ],
    rows: summary.wsss.rounds.map((r) => [
      r.round,
      r.labels,
      r.harvest?.slices ?? '–',
      r.harvest?.cnnFound ?? '–',
      r.harvest?.grabCutFallbacks ?? '–',
      r.resumed ? `${r.epochs} (earlier run)` : r.epochs,
      r.bestValDice,
    ]),
  });
  tables.push({
    title: 'Stage timings',
    columns: ['stage', 'seconds'],
    rows: [
      ...Object.entries(summary.stageSeconds).map(([k, v]) => [k, v.toFixed(1)]),
      ['total', summary.totalSeconds.toFixed(1)],
    ],
  });
  if (failed.length) {
    tables.push({
      title: 'Lesions that failed',
      columns: ['lesion', 'code', 'message'],
      rows: failed.map((l) => [l.record.lesionId, l.error!.code, l.error!.message]),
    });
  }
  return tables;
}

/** Masks against the RECIST ellipsoid per category: does the image add anything to the RECIST alone? */
export function versusEllipsoidTable(rows: VersusEllipsoid[]): Table {
  const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
  const pair = ([m, e]: [number, number], digits = 3) => `${f(m, digits)} / ${f(e, digits)}`;
  const gain = ([m, e]: [number, number]) =>
    Number.isFinite(m - e) ? `${m - e >= 0 ? '+' : ''}${(m - e).toFixed(3)}` : '–';
  return {
    title: 'Masks against the RECIST ellipsoid (ground truth present)',
    columns: [
      'category',
      'n',
      '3D Dice',
      'gain',
      'RECIST-slice Dice',
      'gain',
      'precision',
      'recall',
      'AVD (mm)',
      'volume error',
    ],
    rows: rows.map((r) => [
      r.category,
      r.n,
      pair(r.dice3d),
      gain(r.dice3d),
      pair(r.diceKey),
      gain(r.diceKey),
      pair(r.precision3d),
      pair(r.recall3d),
      pair(r.avdMm, 2),
      pair(r.volumeError),
    ]),
    note: 'masks / ellipsoid, means over lesions; the ellipsoid is the RECIST ellipse shrunk by the Pythagorean rule (no image); volume error = |V - V_truth| / V_truth',
  };
}

/** Dice by slice offset, the 3D precision-recall curve and volume against the RECIST ellipsoid. */
function reportFigures(summary: RunReportInput, ok: ReportLesion[]): Figure[] {
  const figures: Figure[] = [];
  const maxN = Math.max(0, ...summary.diceByOffset.map(([, , n]) => n));
  if (summary.diceByOffset.length) {
    const points = summary.diceByOffset.filter(([, , n]) => n >= Math.min(5, maxN)).map(([o, d]) => [o, d]);
    figures.push({
      title: 'Dice by slice offset from the RECIST slice (Figure 4)',
      svg: lineChart([{ name: 'recist3d', points: points as [number, number][] }], {
        xLabel: 'slice offset',
        yLabel: 'mean Dice',
        yRange: [0, 1],
      }),
    });
  }
  if (summary.pr) {
    const f = summary.pr.maxF();
    figures.push({
      title: '3D precision-recall of the CNN output (Figure 5)',
      svg: lineChart(
        [
          {
            name: `final model [F=${f.f.toFixed(3)} at ${f.threshold.toFixed(2)}]`,
            points: summary.pr.curve().map(([r, p]) => [r, p]),
          },
        ],
        { xLabel: 'recall', yLabel: 'precision', xRange: [0, 1], yRange: [0, 1] },
      ),
      caption: 'pooled over the voxels of every lesion crop, before the connected-component step',
    });
  }
  const vol = ok.filter((l) => l.result && Number.isFinite(l.ellipsoidMm3));
  if (vol.length) {
    figures.push({
      title: 'Mask volume against the RECIST ellipsoid volume',
      svg: lineChart(
        [
          {
            name: 'lesions',
            scatter: true,
            points: vol.map((l) => [l.ellipsoidMm3 / 1000, l.result!.volumeMm3 / 1000]),
          },
        ],
        { xLabel: 'RECIST ellipsoid volume (mL)', yLabel: 'recist3d volume (mL)', identity: true },
      ),
    });
  }
  return figures;
}

/** The gallery's lesions: best, median and worst by 3D Dice (largest, median, smallest by volume without truth). */
export function galleryPicks<L extends ReportLesion>(
  summary: Pick<RunReportInput, 'metrics3d'>,
  ok: readonly L[],
): { labels: string[]; picks: (L | undefined)[] } {
  const ranked = [...ok].sort(
    (a, b) =>
      (a.scores?.metrics3d.dice ?? a.result!.volumeMm3) - (b.scores?.metrics3d.dice ?? b.result!.volumeMm3),
  );
  const labels = summary.metrics3d ? ['best', 'median', 'worst'] : ['largest', 'median', 'smallest'];
  return { labels, picks: [ranked.at(-1), ranked[Math.floor(ranked.length / 2)], ranked[0]] };
}

async function galleryFigures(
  summary: RunReportInput,
  ok: ReportLesion[],
  stacks: LesionStack[],
): Promise<Figure[]> {
  const byId = new Map(stacks.map((s) => [s.record.lesionId, s]));
  const { labels, picks } = galleryPicks(summary, ok);
  const gallery: Figure[] = [];
  for (const [i, l] of picks.entries()) {
    const s = l && byId.get(l.record.lesionId);
    if (l && s) gallery.push(await galleryFigure(labels[i], l, s));
  }
  return gallery;
}
