/**
 * The paper's Tables 3 and 4 (HNN vs HNN-SR, section 3.4), a benchmark, never a test:
 *
 *   npx tsx bench/sr/tables.ts --manifest M --sr DIR --out DIR [--threads N] [--seed S] [--reps R] [-- <more run options>]
 *
 * Runs `recist3d run` twice on the same manifest with the same seed and options (everything after `--` goes to
 * both), without and with `--sr DIR`, into OUT/hnn and OUT/hnn-sr (`--force`: a rerun of the benchmark times
 * fresh runs), each in its own process with RECIST3D_THREADS=N, and times each run's wall clock: R times each,
 * alternating (ABBA), the median.
 *
 * - Table 3 (3D): recall, precision, AVD, VS and Dice of the final 3D masks, from each run's metrics.json (the
 *   scores `run` itself computes against the manifest's masks), plus each run's wall time and the ratio
 *   HNN-SR / HNN.
 * - Table 4 (RECIST slice): Dice per category and in total of the round-0 CNN of each run (`rounds/round0`,
 *   trained on the GrabCut-R labels of the RECIST slices) applied on the RECIST slice, as HNN and HNN-SR, and
 *   the same refined by GrabCut from the CNN's trimap (HNN-GC, HNN-SR-GC): `recist3d segment`'s path
 *   (segmentCohort2d, with --gc for the GC rows), masks written under OUT/table4/<method>/.
 *
 * Prints both tables as Markdown and writes OUT/tables.md and OUT/tables.json. On a shared machine the training
 * time of one run varies by tens of percent, so use --reps 3 or more for the ratio; the scores are those of the
 * last repetition (the same seed and threads give the same masks).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifest } from '../../src/io/manifest.js';
import { formatStat, meanStd, type MetricsReport, type MetricStat } from '../../src/metrics/aggregate.js';
import { segmentCohort2d, type SegmentRow } from '../../src/pipeline/segment-cohort.js';
import { markdownTable } from '../../src/util/markdown-table.js';
import { writeFileAtomic, writeJsonAtomic } from '../../src/util/fs.js';
import { CLI, ROOT } from '../../test/helpers/spawn-cli.js';
import { median } from '../lib/peer.js';

const { values: args, positionals: runArgs } = parseArgs({
  options: {
    manifest: { type: 'string' },
    sr: { type: 'string' },
    out: { type: 'string' },
    threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
    seed: { type: 'string', default: '0' },
    reps: { type: 'string', default: '1' },
  },
  allowPositionals: true,
});
if (!args.manifest || !args.sr || !args.out) {
  process.stderr.write(
    'usage: npx tsx bench/sr/tables.ts --manifest M --sr DIR --out DIR [--threads N] [--seed S] [--reps R] [-- run options]\n',
  );
  process.exit(2);
}
const manifest = resolve(args.manifest);
const srDir = resolve(args.sr);
const out = resolve(args.out);
const threads = args.threads;
const reps = Number(args.reps);
if (!Number.isInteger(reps) || reps < 1)
  throw new Error(`--reps must be a positive integer, not ${args.reps}`);
// the in-process segment runs below use the same thread count as the two `run` processes
process.env.RECIST3D_THREADS = threads;

interface Variant {
  method: 'HNN' | 'HNN-SR';
  dir: string;
  sr: string | undefined;
}
const VARIANTS: Variant[] = [
  { method: 'HNN', dir: join(out, 'hnn'), sr: undefined },
  { method: 'HNN-SR', dir: join(out, 'hnn-sr'), sr: srDir },
];

interface RunMetrics {
  metrics3d?: MetricsReport;
  stageSeconds: Record<string, number>;
  totalSeconds: number;
  lesions: number;
  failed: number;
}

/** One `recist3d run` in its own process; resolves with its wall time in seconds. */
function timedRun(v: Variant): number {
  const cli = [...CLI, 'run'];
  const argv = [
    ...cli,
    '--manifest',
    manifest,
    '--out',
    v.dir,
    '--seed',
    args.seed!,
    '--force',
    '--no-report',
    ...(v.sr ? ['--sr', v.sr] : []),
    ...runArgs,
  ];
  process.stderr.write(`[tables] ${v.method}: recist3d ${argv.slice(cli.length - 1).join(' ')}\n`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, RECIST3D_THREADS: threads, CI: 'true' },
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`recist3d run (${v.method}) failed with status ${r.status}`);
  return seconds;
}

await mkdir(out, { recursive: true });
const load0 = loadavg()[0];
// ABBA order over the repetitions, so a drift of the machine's load hits both variants alike
const walls = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
for (let r = 0; r < reps; r++) {
  for (const v of r % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) walls.get(v)!.push(timedRun(v));
}
const runs: { variant: Variant; wallSeconds: number; walls: number[]; metrics: RunMetrics }[] = [];
for (const v of VARIANTS) {
  // the scores of the last repetition (a run with the same seed and threads gives the same masks)
  const metrics = JSON.parse(await readFile(join(v.dir, 'metrics.json'), 'utf8')) as RunMetrics;
  runs.push({ variant: v, wallSeconds: median(walls.get(v)!), walls: walls.get(v)!, metrics });
}

// Table 4: the round-0 CNN of each run on the RECIST slice, without and with GrabCut
const records = await loadManifest(manifest, { checkFiles: false });
const table4: { method: string; rows: SegmentRow[]; seconds: number }[] = [];
for (const { variant } of runs) {
  for (const gc of [false, true]) {
    const method = `${variant.method}${gc ? '-GC' : ''}`;
    process.stderr.write(`[tables] ${method}: the round-0 CNN of ${variant.dir} on the RECIST slices\n`);
    const r = await segmentCohort2d(
      variant.dir,
      records,
      join(out, 'table4', method),
      { gc },
      {},
      { checkpoint: join(variant.dir, 'rounds', 'round0'), sr: variant.sr },
    );
    table4.push({ method, rows: r.rows, seconds: r.seconds });
  }
}

// ---- tables
const T3_METRICS = [
  ['recall', 'recall', 3],
  ['precision', 'precision', 3],
  ['AVD (mm)', 'avdMm', 2],
  ['VS', 'volumetricSimilarity', 3],
  ['Dice', 'dice', 3],
] as const;
const [plain, withSr] = runs;
const ratio = withSr.wallSeconds / plain.wallSeconds;
const t3 = markdownTable(
  ['method', 'n', ...T3_METRICS.map(([h]) => h), 'wall time (s)', 'of which SR images (s)'],
  runs.map(({ variant, wallSeconds, metrics }) => {
    const o = metrics.metrics3d?.overall;
    return [
      variant.method,
      String(o?.n ?? 0),
      ...T3_METRICS.map(([, k, d]) => (o ? formatStat(o.stats[k], d) : '–')),
      wallSeconds.toFixed(1),
      (metrics.stageSeconds.sr ?? 0).toFixed(1),
    ];
  }),
);

const categories = [...new Set(records.map((r) => r.category))].sort();
const diceOf = (rows: readonly SegmentRow[]): MetricStat => meanStd(rows.map((r) => r.dice));
const t4Json = table4.map(({ method, rows, seconds }) => ({
  method,
  seconds,
  byCategory: Object.fromEntries(
    categories.map((c) => [c, diceOf(rows.filter((r) => r.category === c))]),
  ) as Record<string, MetricStat>,
  total: diceOf(rows),
  failed: rows.filter((r) => r.status === 'failed').length,
}));
const t4 = markdownTable(
  ['method', ...categories, 'total'],
  t4Json.map((m) => [
    m.method,
    ...categories.map((c) => formatStat(m.byCategory[c], 3)),
    formatStat(m.total, 3),
  ]),
);

const md = [
  `## Table 3: 3D segmentation with and without SR (mean ± std over lesions)`,
  '',
  t3,
  '',
  `Wall time HNN-SR / HNN: **${ratio.toFixed(2)}** (median of ${reps} run${reps > 1 ? 's' : ''} each, alternating, RECIST3D_THREADS=${threads}, load average ${load0.toFixed(1)} at the start).`,
  '',
  `## Table 4: RECIST-slice Dice per category (round-0 CNN on the RECIST slice; -GC: refined by GrabCut)`,
  '',
  t4,
  '',
].join('\n');
process.stdout.write(`\n${md}`);
await writeFileAtomic(join(out, 'tables.md'), md);
await writeJsonAtomic(join(out, 'tables.json'), {
  manifest,
  sr: srDir,
  seed: Number(args.seed),
  runOptions: runArgs,
  threads: Number(threads),
  loadAverageAtStart: load0,
  reps,
  table3: runs.map(({ variant, wallSeconds, walls: all, metrics }) => ({
    method: variant.method,
    out: variant.dir,
    wallSeconds,
    wallSecondsEach: all,
    stageSeconds: metrics.stageSeconds,
    lesions: metrics.lesions,
    failed: metrics.failed,
    metrics3d: metrics.metrics3d,
  })),
  wallTimeRatio: ratio,
  table4: t4Json,
});
process.stderr.write(`[tables] wrote ${join(out, 'tables.md')} and tables.json\n`);
