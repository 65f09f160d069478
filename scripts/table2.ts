/**
 * Table 2 of the paper: 2D lesion CNNs on the RECIST slice, trained from different labels, with and without
 * CNN-GC, scored (Dice mean ± std) on a held-out patient split; plus "weak at scale vs full on little":
 * full supervision under k-fold cross-validation (by patient) on a small annotated subset of the held-out
 * patients, against the weak models scored on the same lesions. Also the pooled precision-recall curves of
 * the CNN outputs on the held-out lesions (max F1 in the legend).
 *
 *   npx tsx scripts/table2.ts --manifest /tmp/lidc/manifest.csv --out /tmp/table2/lidc --name LIDC
 *
 * Options: --test-fraction 0.2 --seed 0 --roi-size 64 --base-width 16 --epochs 20 --samples-per-epoch 400
 *   --subset 60 --folds 5 --cv-epochs 20 --cv-samples-per-epoch 192 --configs hnn-recist,hnn-grabcut-r,hnn-full,unet-full --svg docs/img/pr-lidc.svg
 * Every training lives in its own folder under --out and is resumable; a rerun reuses finished models.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifest } from '../src/io/manifest.js';
import { readMask } from '../src/io/nifti.js';
import { formatStat, meanStd, renderTable } from '../src/metrics/aggregate.js';
import { computeConfusion, computeOverlap } from '../src/metrics/overlap.js';
import type { Arch } from '../src/model/binding.js';
import { PrAccumulator } from '../src/metrics/pr-curve.js';
import { trainCnnOnStacks } from '../src/pipeline/train-cnn.js';
import { roiBoxOnSlice, roiToSliceBox } from '../src/geometry/roi-project.js';
import { segmentKeySlices, type KeySliceResult } from '../src/steps/key-slice.js';
import { lineChart } from '../src/report/svg.js';
import { createRng } from '../src/util/random.js';
import { type LesionStack } from '../src/types/stack.js';
import { initialLabels, type InitialLabels } from '../src/steps/2-round0-labels.js';
import { buildKeyStacks } from '../src/steps/1-roi-stacks.js';

const { values: a } = parseArgs({
  options: {
    manifest: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string', default: 'cohort' },
    'test-fraction': { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '0' },
    'roi-size': { type: 'string', default: '64' },
    'base-width': { type: 'string', default: '16' },
    epochs: { type: 'string', default: '20' },
    'samples-per-epoch': { type: 'string', default: '400' },
    'cv-samples-per-epoch': { type: 'string', default: '192' },
    subset: { type: 'string', default: '60' },
    folds: { type: 'string', default: '5' },
    'cv-epochs': { type: 'string', default: '20' },
    configs: { type: 'string', default: 'hnn-recist,hnn-grabcut-r,hnn-full,unet-full' },
    svg: { type: 'string' },
  },
});
if (!a.manifest || !a.out) throw new Error('usage: table2.ts --manifest M --out DIR [--name N]');
const out = resolve(a.out);
const seed = Number(a.seed);
const roi = { roiSize: Number(a['roi-size']), roiScale: 2 };
const fitShort = {
  maxEpochs: Number(a.epochs),
  minEpochs: 6,
  stopPatience: 5,
  lrPatience: 3,
  minSamplesPerEpoch: Number(a['samples-per-epoch']),
};
const log = (s: string) => process.stderr.write(`[table2 ${a.name}] ${s}\n`);

const records = await loadManifest(resolve(a.manifest));
const patients = [...new Set(records.map((r) => r.patientId ?? r.lesionId))].sort();
const rng = createRng(seed);
for (let i = patients.length - 1; i > 0; i--) {
  const j = rng.int(i + 1);
  [patients[i], patients[j]] = [patients[j], patients[i]];
}
const testPatients = new Set(patients.slice(0, Math.round(patients.length * Number(a['test-fraction']))));
const isTest = (s: LesionStack) => testPatients.has(s.record.patientId ?? s.record.lesionId);
const t0 = performance.now();
const built = await buildKeyStacks(records, roi);
const stacks = built.flatMap((r) => (r.ok ? [r.stack] : []));
const trainStacks = stacks.filter((s) => !isTest(s));
const testStacks = stacks.filter((s) => isTest(s) && s.record.maskPath);
log(
  `${stacks.length}/${records.length} ROIs in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
    `train ${trainStacks.length} lesions, test ${testStacks.length} lesions of ${testPatients.size} patients`,
);

/** Ground truth of every test lesion on its ROI box of the CT slice; truth outside the box counts as missed. */
const truthBox = new Map<string, Uint8Array>();
const truthOutside = new Map<string, number>();
for (const s of testStacks) {
  const m = await readMask(s.record.maskPath!);
  const [ni] = m.size;
  const plane = m.size[0] * m.size[1];
  const [i0, j0, i1, j1] = roiBoxOnSlice(s.keyRoi.geometry);
  const box = new Uint8Array((i1 - i0 + 1) * (j1 - j0 + 1));
  for (let j = j0; j <= j1; j++)
    for (let i = i0; i <= i1; i++)
      box[i - i0 + (i1 - i0 + 1) * (j - j0)] = m.data[s.record.keySlice * plane + i + ni * j] ? 1 : 0;
  truthBox.set(s.record.lesionId, box);
  let onSlice = 0;
  for (let p = 0; p < plane; p++) onSlice += m.data[s.record.keySlice * plane + p] ? 1 : 0;
  truthOutside.set(s.record.lesionId, onSlice - box.reduce((x, y) => x + y, 0));
}

function diceOf(r: KeySliceResult): number {
  const c = computeConfusion(r.maskBox, truthBox.get(r.lesionId)!);
  c.fn += truthOutside.get(r.lesionId) ?? 0;
  return computeOverlap(c).dice;
}

interface Row {
  id: string;
  label: string;
  cnn: Map<string, number>;
  gc?: Map<string, number>;
  trainSeconds?: number;
  epochs?: number;
  pr?: { maxF1: number; bestThreshold: number; points: [number, number][] };
}
const rows: Row[] = [];

// Reference: GrabCut-R itself on the held-out RECIST slices (no CNN).
{
  const labels = await initialLabels(testStacks, 'grabcut-r', () => undefined);
  const cnn = new Map<string, number>();
  labels.forEach((l, i) => {
    const s = testStacks[i];
    const box = roiBoxOnSlice(s.keyRoi.geometry);
    const p = roiToSliceBox(Float32Array.from(l.y), s.keyRoi.geometry, box);
    const maskBox = Uint8Array.from(p, (v) => (v >= 0.5 ? 1 : 0));
    cnn.set(
      l.lesionId,
      diceOf({ lesionId: l.lesionId, box, probBox: p, maskBox, threshold: 0.5, gcFallback: false }),
    );
  });
  rows.push({ id: 'grabcut-r', label: 'GrabCut-R (no CNN; the training labels)', cnn });
}

const CONFIGS: Record<string, { arch: Arch; labels: InitialLabels; label: string }> = {
  'hnn-recist': { arch: 'hnn', labels: 'recist', label: 'HNN, RECIST trimap (uncertain ignored)' },
  'hnn-grabcut-r': { arch: 'hnn', labels: 'grabcut-r', label: 'HNN, GrabCut-R masks' },
  'hnn-full': { arch: 'hnn', labels: 'full', label: 'HNN, full masks' },
  'unet-full': { arch: 'unet', labels: 'full', label: 'UNet, full masks' },
};

async function trainAndScore(
  id: string,
  arch: Arch,
  labels: InitialLabels,
  train: LesionStack[],
  test: LesionStack[],
  fitOpts: typeof fitShort & { minSamplesPerEpoch?: number },
): Promise<{ cnn: KeySliceResult[]; gc: KeySliceResult[]; seconds: number; epochs: number }> {
  const t = performance.now();
  const r = await trainCnnOnStacks(
    train,
    join(out, id),
    {
      labels,
      net: { arch, baseWidth: Number(a['base-width']) },
      stack: { roiSize: roi.roiSize },
      fit: fitOpts,
      seed,
    },
    {
      epoch: (_, e) =>
        log(
          `${id} epoch ${e.epoch} loss ${e.trainLoss.toFixed(4)} val ${e.valDice.toFixed(3)} ${e.seconds.toFixed(0)} s`,
        ),
    },
  );
  try {
    // the paper's CNN rows: the map at 0.5 (no key-coverage lowering), components touching the RECIST
    const cnn = await segmentKeySlices(r.net, test, { keyAxisCoverage: 0 });
    const gc = await segmentKeySlices(r.net, test, { gc: true, keyAxisCoverage: 0 });
    const round = r.rounds[0];
    const seconds = r.stageSeconds['train-r0'] ?? (performance.now() - t) / 1000;
    log(`${id}: ${round.resumed ? 'reused' : 'trained'} (${round.epochs} epochs, ${seconds.toFixed(0)} s)`);
    return { cnn, gc, seconds, epochs: round.epochs };
  } finally {
    r.net.dispose();
  }
}

/** Pooled precision-recall of the CNN probabilities over the held-out RECIST-slice pixels (ROI boxes). */
function prCurve(results: KeySliceResult[]): NonNullable<Row['pr']> {
  const acc = new PrAccumulator(200);
  for (const x of results) acc.add(x.probBox, truthBox.get(x.lesionId)!);
  const best = acc.maxF();
  return {
    maxF1: best.f,
    bestThreshold: best.threshold,
    points: acc.curve().map(([r, p]) => [r, p] as [number, number]),
  };
}

for (const id of a.configs.split(',')) {
  const c = CONFIGS[id];
  if (!c) throw new Error(`unknown config ${id}`);
  const r = await trainAndScore(id, c.arch, c.labels, trainStacks, testStacks, fitShort);
  rows.push({
    id,
    label: c.label,
    cnn: new Map(r.cnn.map((x) => [x.lesionId, diceOf(x)])),
    gc: new Map(r.gc.map((x) => [x.lesionId, diceOf(x)])),
    trainSeconds: r.seconds,
    epochs: r.epochs,
    pr: prCurve(r.cnn),
  });
}

// Full supervision on a small annotated subset (k-fold CV by patient) vs weak supervision on everything.
const nSubset = Math.min(Number(a.subset), testStacks.length);
const subset = testStacks.slice(0, nSubset);
const folds = Number(a.folds);
const subsetPatients = [...new Set(subset.map((s) => s.record.patientId ?? s.record.lesionId))];
const cvCnn = new Map<string, number>();
const cvGc = new Map<string, number>();
let cvSeconds = 0;
if (nSubset >= folds && folds >= 2) {
  for (let f = 0; f < folds; f++) {
    const held = new Set(subsetPatients.filter((_, i) => i % folds === f));
    const inFold = (s: LesionStack) => held.has(s.record.patientId ?? s.record.lesionId);
    const r = await trainAndScore(
      `cv-hnn-full-${f}`,
      'hnn',
      'full',
      subset.filter((s) => !inFold(s)),
      subset.filter(inFold),
      {
        ...fitShort,
        maxEpochs: Number(a['cv-epochs']),
        minSamplesPerEpoch: Number(a['cv-samples-per-epoch']),
      },
    );
    r.cnn.forEach((x) => cvCnn.set(x.lesionId, diceOf(x)));
    r.gc.forEach((x) => cvGc.set(x.lesionId, diceOf(x)));
    cvSeconds += r.seconds;
  }
}

const fmt = (m: Map<string, number> | undefined, ids?: string[]) => {
  if (!m) return '–';
  const v = ids ? ids.flatMap((id) => (m.has(id) ? [m.get(id)!] : [])) : [...m.values()];
  return `${formatStat(meanStd(v), 3)} (n=${v.length})`;
};
const main = renderTable([
  ['labels / network', 'CNN Dice', 'CNN-GC Dice', 'max F1', 'epochs', 'train s'],
  ...rows.map((r) => [
    r.label,
    fmt(r.cnn),
    fmt(r.gc),
    r.pr ? r.pr.maxF1.toFixed(3) : '–',
    `${r.epochs ?? '–'}`,
    r.trainSeconds ? r.trainSeconds.toFixed(0) : '–',
  ]),
]);
const subsetIds = subset.map((s) => s.record.lesionId);
const small = renderTable([
  ['supervision', 'CNN Dice', 'CNN-GC Dice'],
  [`HNN full, ${folds}-fold CV on ${nSubset} annotated lesions`, fmt(cvCnn), fmt(cvGc)],
  ...rows
    .filter((r) => r.gc)
    .map((r) => [
      `${r.label}, all ${trainStacks.length} training lesions`,
      fmt(r.cnn, subsetIds),
      fmt(r.gc, subsetIds),
    ]),
]);
const text =
  `${a.name}: ${trainStacks.length} training lesions, ${testStacks.length} held-out lesions ` +
  `(${testPatients.size} patients), ROI ${roi.roiSize} px, seed ${seed}\n\n${main}\n\n${small}\n` +
  `CV training time (all folds): ${cvSeconds.toFixed(0)} s\n`;
process.stdout.write(text);
await mkdir(out, { recursive: true });
await writeFile(join(out, 'table2.txt'), text);
const perLesion = rows.map((r) => ({
  id: r.id,
  cnn: Object.fromEntries(r.cnn),
  gc: r.gc && Object.fromEntries(r.gc),
  maxF1: r.pr?.maxF1,
  bestThreshold: r.pr?.bestThreshold,
  trainSeconds: r.trainSeconds,
  epochs: r.epochs,
}));
await writeFile(
  join(out, 'table2.json'),
  JSON.stringify(
    {
      name: a.name,
      seed,
      roi,
      fit: fitShort,
      rows: perLesion,
      cv: {
        folds,
        subset: subsetIds,
        cnn: Object.fromEntries(cvCnn),
        gc: Object.fromEntries(cvGc),
        seconds: cvSeconds,
      },
    },
    null,
    1,
  ),
);
const svg = lineChart(
  rows
    .filter((r) => r.pr)
    .map((r) => ({ name: `${r.label} (F=${r.pr!.maxF1.toFixed(3)})`, points: r.pr!.points })),
  {
    title: `${a.name}: precision-recall of the CNN outputs (held-out RECIST slices, pooled pixels)`,
    legend: 'bottom-left',
    xLabel: 'recall',
    yLabel: 'precision',
    xRange: [0, 1],
    yRange: [0, 1],
    width: 640,
    height: 440,
  },
);
await writeFile(a.svg ? resolve(a.svg) : join(out, 'pr.svg'), svg);
log(`done in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
