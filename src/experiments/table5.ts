/**
 * The 3D comparison of paper Table 5 and Figures 4/5 on one manifest: the image-only baselines (GrabCut-3D,
 * GrabCut-3DE, the RECIST ellipsoid), the RECIST-slice model applied in 3D (HNN, round 0) and the self-paced
 * models WSSS-3/5/7 (rounds 1/2/3), each CNN with and without CNN-GC. One WSSS training run with K rounds
 * yields every round's checkpoint, so all CNN rows share their training.
 */
import { join } from 'node:path';
import { loadManifest } from '../io/manifest.js';
import { METRIC_NAMES, formatStat } from '../metrics/aggregate.js';
import { verifyCheckpoint } from '../model/checkpoint.js';
import { inputLayoutOf } from '../model/infer.js';
import { lineChart } from '../report/svg.js';
import { baselineLesion3d, type Baseline3d } from './baselines-3d.js';
import { scoreCohort, type CohortScores } from '../pipeline/score-cohort.js';
import { SEGMENT3D_DEFAULTS, segmentLesion3d, type Segment3dOptions } from '../steps/5-segment-3d.js';
import { trainWsss, type WsssHooks, type WsssOptions } from '../pipeline/wsss.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

export interface Experiment3dOptions extends WsssOptions {
  /** Also run every CNN row with CNN-GC. */
  withGc?: boolean;
  /** Largest |slice offset| drawn in the Dice-by-offset figure. */
  maxOffsetPlotted?: number;
  /** Title prefix of tables and figures (e.g. the data set). */
  title?: string;
  /** Options of the CNN rows' 3D segmentation (defaults: SEGMENT3D_DEFAULTS). */
  segment?: Segment3dOptions;
}

export interface MethodRow {
  method: string;
  scores: CohortScores;
  seconds: number;
}

const ROUND_NAMES = ['HNN (RECIST slice only)', 'WSSS-3', 'WSSS-5', 'WSSS-7', 'WSSS-9'];

export async function runExperiment3d(
  manifestPath: string,
  outDir: string,
  options: Experiment3dOptions = {},
  hooks: WsssHooks = {},
): Promise<MethodRow[]> {
  const records = await loadManifest(manifestPath);
  const rounds = options.rounds ?? 3;
  const wsss = await trainWsss(records, join(outDir, 'wsss'), { ...options, rounds }, hooks);
  const rows: MethodRow[] = [];
  const layout = inputLayoutOf(wsss.input);
  const run = async (method: string, fn: Parameters<typeof scoreCohort>[1]) => {
    hooks.stage?.(method, wsss.stacks.length);
    const t0 = performance.now();
    const scores = await scoreCohort(wsss.stacks, fn, { onLesion: (d) => hooks.tick?.(d) });
    const seconds = (performance.now() - t0) / 1000;
    hooks.stageEnd?.(method, seconds);
    rows.push({ method, scores, seconds });
  };
  try {
    for (const b of ['ellipsoid', 'grabcut-3d', 'grabcut-3de'] as Baseline3d[]) {
      await run(
        b === 'ellipsoid' ? 'RECIST ellipsoid' : b === 'grabcut-3d' ? 'GrabCut-3D' : 'GrabCut-3DE',
        (s) => baselineLesion3d(s, b),
      );
    }
    // the image-free reference with the same flatter body the CNN masks are clamped to (--z-extent)
    const zExtent = options.segment?.zExtent ?? SEGMENT3D_DEFAULTS.zExtent;
    if (zExtent !== 1) {
      await run(`RECIST ellipsoid, depth ${zExtent} L`, (s) => baselineLesion3d(s, 'ellipsoid', { zExtent }));
    }
    for (let r = 0; r <= rounds; r++) {
      await verifyCheckpoint(join(outDir, 'wsss', 'rounds', `round${r}`));
      await wsss.net.load(join(outDir, 'wsss', 'rounds', `round${r}.pt`));
      await run(ROUND_NAMES[r] ?? `WSSS round ${r}`, (s) =>
        segmentLesion3d(wsss.net, s, { ...options.segment, layout, gc: false }),
      );
      if (options.withGc)
        await run(`${ROUND_NAMES[r] ?? `WSSS round ${r}`} + GC`, (s) =>
          segmentLesion3d(wsss.net, s, { ...options.segment, layout, gc: true }),
        );
    }
  } finally {
    wsss.net.dispose();
  }
  await writeExperimentOutputs(outDir, rows, options);
  return rows;
}

/** Markdown tables, the two SVG figures and a JSON dump of the rows. */
export async function writeExperimentOutputs(
  outDir: string,
  rows: MethodRow[],
  options: Experiment3dOptions = {},
): Promise<void> {
  const title = options.title ?? '';
  await writeFileAtomic(join(outDir, 'table5.md'), table5Markdown(rows, title));
  await writeFileAtomic(
    join(outDir, 'dice-by-offset.svg'),
    diceByOffsetSvg(rows, title, options.maxOffsetPlotted ?? 6),
  );
  await writeFileAtomic(join(outDir, 'pr-3d.svg'), prSvg(rows, title));
  await writeJsonAtomic(
    join(outDir, 'experiment3d.json'),
    rows.map((r) => ({
      method: r.method,
      seconds: r.seconds,
      metrics3d: r.scores.metrics3d,
      metricsKey: r.scores.metricsKey,
      diceByOffset: r.scores.diceByOffset,
      maxF: r.scores.pr?.maxF(),
    })),
  );
}

/** The overall table (every metric) and, with several categories, the per-category 3D Dice of Table 5. */
function table5Markdown(rows: MethodRow[], title: string): string {
  const md: string[] = [];
  md.push(`### ${title} 3D segmentation (mean ± std over lesions)`, '');
  md.push('| method | n | 3D Dice | precision | recall | VS | AVD (mm) | RECIST-slice Dice | seconds |');
  md.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const m = r.scores.metrics3d?.overall;
    const k = r.scores.metricsKey?.overall;
    if (!m || !k) continue;
    const cells = METRIC_NAMES.map((name) => formatStat(m.stats[name], name === 'avdMm' ? 2 : 3));
    md.push(
      `| ${r.method} | ${m.n} | ${cells.join(' | ')} | ${formatStat(k.stats.dice, 3)} | ${r.seconds.toFixed(0)} |`,
    );
  }
  const cats = [...new Set(rows.flatMap((r) => Object.keys(r.scores.metrics3d?.byCategory ?? {})))].sort();
  if (cats.length > 1) {
    md.push('', `### ${title} 3D Dice per category (Table 5)`, '');
    md.push(`| method | ${cats.join(' | ')} | total |`);
    md.push(`|---|${cats.map(() => '---').join('|')}|---|`);
    for (const r of rows) {
      const by = r.scores.metrics3d?.byCategory ?? {};
      const total = r.scores.metrics3d ? formatStat(r.scores.metrics3d.overall.stats.dice, 3) : '–';
      md.push(
        `| ${r.method} | ${cats.map((c) => (by[c] ? formatStat(by[c].stats.dice, 3) : '–')).join(' | ')} | ${total} |`,
      );
    }
  }
  return md.join('\n') + '\n';
}

/** Figure 4: mean Dice by slice offset from the RECIST slice, one line per method. */
function diceByOffsetSvg(rows: MethodRow[], title: string, maxOff: number): string {
  return lineChart(
    rows.map((r) => ({
      name: r.method,
      points: r.scores.diceByOffset
        .filter(([o]) => Math.abs(o) <= maxOff)
        .map(([o, d]) => [o, d] as [number, number]),
    })),
    {
      title: `${title} Dice by slice offset (Figure 4)`,
      xLabel: 'slice offset from the RECIST slice',
      yLabel: 'mean Dice',
      yRange: [0, 1],
    },
  );
}

/** Figure 5: the pooled 3D precision-recall curve of each CNN row. */
function prSvg(rows: MethodRow[], title: string): string {
  const prRows = rows.filter(
    (r) => r.scores.pr && !r.method.includes('GC') && !r.method.includes('ellipsoid'),
  );
  return lineChart(
    prRows.map((r) => {
      const pr = r.scores.pr!;
      return {
        name: `${r.method} [F=${pr.maxF().f.toFixed(3)}]`,
        points: pr.curve().map(([rec, prec]) => [rec, prec] as [number, number]),
      };
    }),
    {
      title: `${title} 3D precision-recall (Figure 5)`,
      xLabel: 'recall',
      yLabel: 'precision',
      xRange: [0, 1],
      yRange: [0, 1],
    },
  );
}
