/**
 * Where does the 3D error of a finished `recist3d run` come from? Masks against the RECIST ellipsoid, per
 * lesion and per category, plus what the window, the round-0 labels and the ROI resolution contribute.
 *
 *   node --import tsx bench/beyond/measure.ts --manifest M --run DIR [--round K] [--segment JSON] [--out CSV] [--sr DIR]
 *
 * Reads the run's checkpoint (model/round<K>.pt, default the last round) and labels (work/labels-r*.bin), cuts
 * the same ROI stacks with the run's defaults, segments every lesion again (options of `--segment` merged over
 * the defaults), and scores the masks and the RECIST ellipsoid against the manifest's `mask` column.
 * Prints one summary table per category; `--out` writes the per-lesion rows.
 */
import { Command } from 'commander';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadManifest } from '../../src/io/manifest.js';
import { readMask, readNifti, writeNifti } from '../../src/io/nifti.js';
import { cropToFull } from '../../src/geometry/crop-mask.js';
import { maskFileName } from '../../src/io/mask-file-name.js';
import { loadCheckpoint } from '../../src/model/checkpoint.js';
import { inputLayoutOf } from '../../src/model/infer.js';
import { addSrChannels, checkSrMatches, openSr } from '../../src/sr/stack-channels.js';
import { computeConfusion, computeOverlap } from '../../src/metrics/overlap.js';
import { roiMaskToSlice, sliceMaskToRoi } from '../../src/geometry/roi.js';
import { rasterizeEllipse } from '../../src/trimap/raster.js';
import { loadLabels } from '../../src/pipeline/label-store.js';
import type { HarvestedLabel } from '../../src/types/label.js';
import { buildStacks, type StackOptions } from '../../src/steps/1-roi-stacks.js';
import type { LesionStack } from '../../src/types/stack.js';
import { segmentLesion3d, type Lesion3dResult, type Segment3dOptions } from '../../src/steps/5-segment-3d.js';
import { baselineLesion3d } from '../../src/experiments/baselines-3d.js';
import { scoreLesion, type LesionScores } from '../../src/metrics/score-3d.js';
import { exists } from '../../src/util/fs.js';
import { auc, recistContrast, recistIsodense } from '../../src/steps/lesion-contrast.js';

const program = new Command('measure')
  .requiredOption('--manifest <csv>', 'manifest with a mask column')
  .requiredOption('--run <dir>', 'finished run folder')
  .option('--round <k>', 'checkpoint round (default: the final model)')
  .option('--segment <json>', 'Segment3dOptions merged over the defaults', '{}')
  .option('--stack <json>', 'StackOptions (must match the run)', '{}')
  .option('--out <csv>', 'per-lesion rows')
  .option('--no-hu', 'skip the HU statistics (no image re-read)')
  .option('--quiet', 'no per-category tables')
  .option('--masks <dir>', "also write each lesion's mask as NIfTI (the image grid) into this folder")
  .option('--sr <dir>', 'the stacked GAN folder of a run made with --sr (HNN-SR)');
program.parse();
const o = program.opts<{
  manifest: string;
  run: string;
  round?: string;
  segment: string;
  stack: string;
  out?: string;
  hu: boolean;
  quiet?: boolean;
  sr?: string;
  masks?: string;
}>();

const runDir = resolve(o.run);
const segOpts = JSON.parse(o.segment) as Segment3dOptions;
const stackOpts = JSON.parse(o.stack) as StackOptions;
const records = await loadManifest(resolve(o.manifest));
const built = await buildStacks(records, stackOpts);
const stacks = built.flatMap((r) => (r.ok ? [r.stack] : []));
// the final model (model.pt), or rounds/round<K>.pt of a new-layout run, or model/round<K>.pt of an old one
const modelBase =
  o.round === undefined
    ? (await exists(join(runDir, 'model.pt')))
      ? join(runDir, 'model')
      : join(
          runDir,
          'model',
          `round${Math.max(...(await readdir(join(runDir, 'model'))).flatMap((f) => (/^round(\d+)\.pt$/.exec(f) ? [Number(RegExp.$1)] : [])))}`,
        )
    : (await exists(join(runDir, 'rounds', `round${o.round}.pt`)))
      ? join(runDir, 'rounds', `round${o.round}`)
      : join(runDir, 'model', `round${o.round}`);
const { net, sidecar } = await loadCheckpoint(modelBase);
// an HNN-SR run's network takes the denoised and enhanced images too: the same stacked GAN must make them
const sr = o.sr ? await openSr(resolve(o.sr)) : undefined;
checkSrMatches(sidecar.input, sr, `${modelBase}.json`);
if (sr) {
  await addSrChannels(stacks, sr);
  sr.dispose();
}
segOpts.layout = inputLayoutOf(sidecar.input);

// labels of every round, keyed by lesion id and slice
const labelsBy = new Map<string, HarvestedLabel[]>();
for (let r = 0; ; r++) {
  const base = join(runDir, 'work', `labels-r${r}`);
  if (!(await exists(`${base}.json`))) break;
  for (const l of (await loadLabels(base)).labels) {
    labelsBy.set(l.lesionId, [...(labelsBy.get(l.lesionId) ?? []), { ...l, source: l.source }]);
  }
}

const dice = (p: ArrayLike<number>, t: ArrayLike<number>) => computeOverlap(computeConfusion(p, t));

interface Row {
  id: string;
  category: string;
  longMm: number;
  shortMm: number;
  mmPerRoiPx: number;
  mask: LesionScores;
  ell: LesionScores;
  maskZmm: number;
  ellZmm: number;
  truthZmm: number;
  truthZoverL: number;
  resCeiling: number;
  label0: { dice: number; precision: number; recall: number };
  ellipseRoi: { dice: number; precision: number; recall: number };
  harvest: Map<number, { dice: number; n: number }>;
  hu?: HuStats | undefined;
  /** Runtime contrast of the RECIST core against its ring (steps/lesion-contrast), no truth used. */
  contrast: number;
  isodense: number;
  keyLowered: boolean;
  endedByConf: boolean;
}

interface HuStats {
  lesionMedian: number;
  ringMedian: number;
  auc: number;
  ringBone: number;
  ringFat: number;
  ringAir: number;
  lesionClipped: number;
  /** Shares of the 3D mask's false-positive voxels that are > 250 HU (bone, contrast) or < -400 HU (air). */
  fpBright: number;
  fpAir: number;
  /** Shares of the truth's voxels that are > 250 HU or < -400 HU (what an exclusion would cost). */
  truthBright: number;
  truthAir: number;
  /** 3D Dice after removing mask voxels > 250 HU and < -400 HU (an oracle-free exclusion). */
  diceExcl: number;
}

if (o.masks) await mkdir(o.masks, { recursive: true });
const rows: Row[] = [];
const imageCache = new Map<string, Awaited<ReturnType<typeof readNifti>>>();
let done = 0;
for (const s of stacks) {
  if (!s.record.maskPath) continue;
  const truth = await readMask(s.record.maskPath);
  const res = await segmentLesion3d(net, s, segOpts);
  const ell = await baselineLesion3d(s, 'ellipsoid');
  if (o.masks) {
    const full = cropToFull(res.mask, s.image.size);
    await writeNifti(join(o.masks, maskFileName(s.record.lesionId)), { ...s.image, data: full });
  }
  const score = (r: Lesion3dResult) =>
    scoreLesion(r.mask, truth.data, s.image.size, s.image.spacingMm, s.record.keySlice);
  const [ni, nj, nk] = s.image.size;
  const plane = ni * nj;
  const sk = s.image.spacingMm[2];
  let tFirst = -1;
  let tLast = -1;
  for (let k = 0; k < nk; k++) {
    let any = false;
    for (let p = k * plane; p < (k + 1) * plane && !any; p++) any = truth.data[p] !== 0;
    if (any) {
      if (tFirst < 0) tFirst = k;
      tLast = k;
    }
  }
  const zOf = (r: Lesion3dResult) =>
    Number.isNaN(r.sliceRange[0]) ? 0 : (r.sliceRange[1] - r.sliceRange[0] + 1) * sk;
  const keyTruth = truth.data.subarray(s.record.keySlice * plane, (s.record.keySlice + 1) * plane);
  const g = s.keyRoi.geometry;
  const truthRoi = sliceMaskToRoi(keyTruth, g);
  const back = roiMaskToSlice(truthRoi, g);
  const resCeiling = dice(back, keyTruth).dice;
  const labels = labelsBy.get(s.record.lesionId) ?? [];
  const l0 = labels.find((l) => l.offset === 0);
  const pick = (x: { dice: number; precision: number; recall: number }) => ({
    dice: x.dice,
    precision: x.precision,
    recall: x.recall,
  });
  const label0 = l0 ? pick(dice(l0.y, truthRoi)) : { dice: NaN, precision: NaN, recall: NaN };
  const ellipseRoi = pick(dice(rasterizeEllipse(s.keyRoi.recist, g.sizePx), truthRoi));
  const harvest = new Map<number, { dice: number; n: number }>();
  for (const l of labels) {
    if (l.offset === 0) continue;
    const tr = sliceMaskToRoi(truth.data.subarray(l.k * plane, (l.k + 1) * plane), g);
    const d = dice(l.y, tr).dice;
    const a = Math.abs(l.offset);
    const h = harvest.get(a) ?? { dice: 0, n: 0 };
    harvest.set(a, { dice: h.dice + d, n: h.n + 1 });
  }
  let hu: HuStats | undefined;
  if (o.hu) {
    let img = imageCache.get(s.record.imagePath);
    if (!img) {
      imageCache.clear();
      img = await readNifti(s.record.imagePath);
      imageCache.set(s.record.imagePath, img);
    }
    hu = {
      ...huStats(img.data.subarray(s.record.keySlice * plane, (s.record.keySlice + 1) * plane), keyTruth, s),
      ...exclusionStats(img.data, truth.data, res, s),
    };
  }
  rows.push({
    id: s.record.lesionId,
    category: s.record.category,
    longMm: s.longMm,
    shortMm: s.shortMm,
    mmPerRoiPx: (g.sideVoxels * s.image.spacingMm[0]) / g.sizePx,
    mask: score(res),
    ell: score(ell),
    maskZmm: zOf(res),
    ellZmm: zOf(ell),
    truthZmm: tFirst < 0 ? 0 : (tLast - tFirst + 1) * sk,
    truthZoverL: tFirst < 0 ? 0 : ((tLast - tFirst + 1) * sk) / s.longMm,
    resCeiling,
    label0,
    ellipseRoi,
    harvest,
    hu,
    keyLowered: res.flags.keyThresholdLowered,
    contrast: recistContrast(s),
    isodense: recistIsodense(s),
    endedByConf: res.flags.endedByConfidence,
  });
  process.stderr.write(`\r${++done}/${stacks.length}`);
}
process.stderr.write('\n');
net.dispose();

/** What HU-based exclusion of bright (> 250) and air (< -400) voxels would do to the 3D mask. */
function exclusionStats(
  vol: ArrayLike<number>,
  truth: Uint8Array,
  r: Lesion3dResult,
  s: LesionStack,
): Pick<HuStats, 'fpBright' | 'fpAir' | 'truthBright' | 'truthAir' | 'diceExcl'> {
  const [ni, nj] = s.image.size;
  const [w, h, d] = r.mask.size;
  const [i0, j0, k0] = r.mask.start;
  let fp = 0;
  let fpB = 0;
  let fpA = 0;
  let tpKeep = 0;
  let predKeep = 0;
  for (let z = 0; z < d; z++)
    for (let j = 0; j < h; j++)
      for (let i = 0; i < w; i++) {
        if (!r.mask.data[i + w * (j + h * z)]) continue;
        const q = i0 + i + ni * (j0 + j + nj * (k0 + z));
        const v = vol[q];
        const keep = v <= 250 && v >= -400;
        if (keep) predKeep++;
        if (truth[q]) {
          if (keep) tpKeep++;
        } else {
          fp++;
          if (v > 250) fpB++;
          if (v < -400) fpA++;
        }
      }
  let t = 0;
  let tB = 0;
  let tA = 0;
  for (let q = 0; q < truth.length; q++) {
    if (!truth[q]) continue;
    t++;
    if (vol[q] > 250) tB++;
    if (vol[q] < -400) tA++;
  }
  return {
    fpBright: fp ? fpB / fp : 0,
    fpAir: fp ? fpA / fp : 0,
    truthBright: t ? tB / t : 0,
    truthAir: t ? tA / t : 0,
    diceExcl: (2 * tpKeep) / (predKeep + t),
  };
}

/** HU inside the truth vs a ring 1..8 mm outside it on the key slice (within the ROI). */
function huStats(
  slice: ArrayLike<number>,
  truth: Uint8Array,
  s: LesionStack,
): Omit<HuStats, 'fpBright' | 'fpAir' | 'truthBright' | 'truthAir' | 'diceExcl'> {
  const [ni, nj] = s.image.size;
  const sp = s.image.spacingMm;
  const g = s.keyRoi.geometry;
  const [lo, hi] = s.keyRoi.window;
  // distance to the truth (brute force over the ROI box, chamfer-free: a box of +-8 mm)
  const i0 = Math.max(0, Math.floor(g.cornerIJ[0]));
  const j0 = Math.max(0, Math.floor(g.cornerIJ[1]));
  const i1 = Math.min(ni - 1, Math.ceil(g.cornerIJ[0] + g.sideVoxels));
  const j1 = Math.min(nj - 1, Math.ceil(g.cornerIJ[1] + g.sideVoxels));
  const inside: number[] = [];
  const ring: number[] = [];
  const ri = Math.ceil(8 / sp[0]);
  const rj = Math.ceil(8 / sp[1]);
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const v = slice[i + ni * j];
      if (truth[i + ni * j]) {
        inside.push(v);
        continue;
      }
      let best = Infinity;
      for (let b = Math.max(0, j - rj); b <= Math.min(nj - 1, j + rj); b++)
        for (let a = Math.max(0, i - ri); a <= Math.min(ni - 1, i + ri); a++)
          if (truth[a + ni * b]) best = Math.min(best, Math.hypot((a - i) * sp[0], (b - j) * sp[1]));
      if (best >= 1 && best <= 8) ring.push(v);
    }
  }
  const med = (xs: number[]) => {
    const a = [...xs].sort((x, y) => x - y);
    return a.length ? a[Math.floor(a.length / 2)] : NaN;
  };
  return {
    lesionMedian: med(inside),
    ringMedian: med(ring),
    auc: auc(inside, ring),
    ringBone: ring.filter((v) => v > 250).length / ring.length,
    ringFat: ring.filter((v) => v >= -200 && v < -30).length / ring.length,
    ringAir: ring.filter((v) => v < -200).length / ring.length,
    lesionClipped: inside.filter((v) => v <= lo || v >= hi).length / inside.length,
  };
}

const mean = (xs: number[]) => {
  const f = xs.filter(Number.isFinite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : NaN;
};
const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');

function summary(name: string, rs: Row[]): string[] {
  const m = (f: (r: Row) => number) => mean(rs.map(f));
  const offs = new Map<number, number[]>();
  for (const r of rs)
    for (const [off, d] of r.mask.diceByOffset)
      offs.set(Math.abs(off), [...(offs.get(Math.abs(off)) ?? []), d]);
  const offsE = new Map<number, number[]>();
  for (const r of rs)
    for (const [off, d] of r.ell.diceByOffset)
      offsE.set(Math.abs(off), [...(offsE.get(Math.abs(off)) ?? []), d]);
  const harv = new Map<number, { d: number; n: number }>();
  for (const r of rs)
    for (const [a, h] of r.harvest) {
      const x = harv.get(a) ?? { d: 0, n: 0 };
      harv.set(a, { d: x.d + h.dice, n: x.n + h.n });
    }
  const lines = [
    `### ${name} (n=${rs.length})`,
    '',
    '| | 3D Dice | prec | recall | AVD mm | key Dice | key prec | key recall | z extent mm (truth ' +
      f1(m((r) => r.truthZmm)) +
      ') |',
    '|---|---|---|---|---|---|---|---|---|',
    `| masks | ${f3(m((r) => r.mask.metrics3d.dice))} | ${f3(m((r) => r.mask.metrics3d.precision))} | ${f3(m((r) => r.mask.metrics3d.recall))} | ${f1(m((r) => r.mask.metrics3d.avdMm))} | ${f3(m((r) => r.mask.metricsKey.dice))} | ${f3(m((r) => r.mask.metricsKey.precision))} | ${f3(m((r) => r.mask.metricsKey.recall))} | ${f1(m((r) => r.maskZmm))} |`,
    `| ellipsoid | ${f3(m((r) => r.ell.metrics3d.dice))} | ${f3(m((r) => r.ell.metrics3d.precision))} | ${f3(m((r) => r.ell.metrics3d.recall))} | ${f1(m((r) => r.ell.metrics3d.avdMm))} | ${f3(m((r) => r.ell.metricsKey.dice))} | ${f3(m((r) => r.ell.metricsKey.precision))} | ${f3(m((r) => r.ell.metricsKey.recall))} | ${f1(m((r) => r.ellZmm))} |`,
    '',
    `Dice by |offset| (masks / ellipsoid): ${[...offs.keys()]
      .sort((a, b) => a - b)
      .filter((a) => a <= 12)
      .map((a) => `${a}: ${f3(mean(offs.get(a)!))}/${f3(mean(offsE.get(a) ?? []))}`)
      .join(', ')}`,
    `RECIST long ${f1(m((r) => r.longMm))} mm; truth z extent / L ${f3(m((r) => r.truthZoverL))}; ROI ${f3(m((r) => r.mmPerRoiPx))} mm/px; ROI resolution ceiling on the key slice (truth -> ROI -> slice) Dice ${f3(m((r) => r.resCeiling))}`,
    `round-0 label vs truth (ROI): Dice ${f3(m((r) => r.label0.dice))} (prec ${f3(m((r) => r.label0.precision))}, rec ${f3(m((r) => r.label0.recall))}); RECIST ellipse vs truth (ROI) ${f3(m((r) => r.ellipseRoi.dice))} (prec ${f3(m((r) => r.ellipseRoi.precision))}, rec ${f3(m((r) => r.ellipseRoi.recall))})`,
    `harvested labels vs truth by |offset|: ${[...harv.keys()]
      .sort((a, b) => a - b)
      .map((a) => `${a}: ${f3(harv.get(a)!.d / harv.get(a)!.n)} (${harv.get(a)!.n})`)
      .join(', ')}`,
    `key threshold lowered ${rs.filter((r) => r.keyLowered).length}, ended by confidence ${rs.filter((r) => r.endedByConf).length}`,
  ];
  if (rs[0]?.hu)
    lines.push(
      `HU (key slice): lesion median ${f1(m((r) => r.hu!.lesionMedian))}, ring 1-8 mm median ${f1(m((r) => r.hu!.ringMedian))}, AUC lesion vs ring ${f3(m((r) => r.hu!.auc))} (|AUC-0.5| ${f3(m((r) => Math.abs(r.hu!.auc - 0.5)))}); ring: bone/contrast >250 HU ${f3(m((r) => r.hu!.ringBone))}, fat ${f3(m((r) => r.hu!.ringFat))}, air/lung ${f3(m((r) => r.hu!.ringAir))}; lesion pixels clipped by the window ${f3(m((r) => r.hu!.lesionClipped))}`,
      `HU exclusion: false-positive voxels > 250 HU ${f3(m((r) => r.hu!.fpBright))}, < -400 HU ${f3(m((r) => r.hu!.fpAir))}; truth voxels > 250 HU ${f3(m((r) => r.hu!.truthBright))}, < -400 HU ${f3(m((r) => r.hu!.truthAir))}; 3D Dice with both excluded ${f3(m((r) => r.hu!.diceExcl))} (masks ${f3(m((r) => r.mask.metrics3d.dice))})`,
    );
  lines.push('');
  return lines;
}

const cats = [...new Set(rows.map((r) => r.category))].sort();
const out: string[] = [];
out.push(...summary('all', rows));
if (!o.quiet && cats.length > 1)
  for (const c of cats)
    out.push(
      ...summary(
        c,
        rows.filter((r) => r.category === c),
      ),
    );
process.stdout.write(out.join('\n') + '\n');
// one-line summary per category, for sweeps
for (const c of ['all', ...(cats.length > 1 ? cats : [])]) {
  const rs = c === 'all' ? rows : rows.filter((r) => r.category === c);
  const m = (f: (r: Row) => number) => mean(rs.map(f));
  process.stdout.write(
    `SUMMARY ${c.padEnd(12)} n=${String(rs.length).padStart(3)} 3D ${f3(m((r) => r.mask.metrics3d.dice))} vs ell ${f3(m((r) => r.ell.metrics3d.dice))} (${(m((r) => r.mask.metrics3d.dice - r.ell.metrics3d.dice) >= 0 ? '+' : '') + f3(m((r) => r.mask.metrics3d.dice - r.ell.metrics3d.dice))})  key ${f3(m((r) => r.mask.metricsKey.dice))} vs ell ${f3(m((r) => r.ell.metricsKey.dice))} (${(m((r) => r.mask.metricsKey.dice - r.ell.metricsKey.dice) >= 0 ? '+' : '') + f3(m((r) => r.mask.metricsKey.dice - r.ell.metricsKey.dice))})  prec ${f3(m((r) => r.mask.metrics3d.precision))} rec ${f3(m((r) => r.mask.metrics3d.recall))}\n`,
  );
}
if (o.out) {
  const head = [
    'lesion_id',
    'category',
    'long_mm',
    'short_mm',
    'mm_per_roi_px',
    'dice3d',
    'prec3d',
    'rec3d',
    'dice_key',
    'prec_key',
    'rec_key',
    'ell_dice3d',
    'ell_prec3d',
    'ell_rec3d',
    'ell_dice_key',
    'mask_z_mm',
    'ell_z_mm',
    'truth_z_mm',
    'res_ceiling',
    'label0_dice',
    'label0_prec',
    'label0_rec',
    'ellipse_roi_dice',
    'hu_lesion',
    'hu_ring',
    'hu_auc',
    'recist_contrast',
    'recist_isodense',
    'ring_bone',
    'ring_fat',
    'ring_air',
  ];
  const lines = [head.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.id,
        r.category,
        r.longMm,
        r.shortMm,
        r.mmPerRoiPx,
        r.mask.metrics3d.dice,
        r.mask.metrics3d.precision,
        r.mask.metrics3d.recall,
        r.mask.metricsKey.dice,
        r.mask.metricsKey.precision,
        r.mask.metricsKey.recall,
        r.ell.metrics3d.dice,
        r.ell.metrics3d.precision,
        r.ell.metrics3d.recall,
        r.ell.metricsKey.dice,
        r.maskZmm,
        r.ellZmm,
        r.truthZmm,
        r.resCeiling,
        r.label0.dice,
        r.label0.precision,
        r.label0.recall,
        r.ellipseRoi.dice,
        r.hu?.lesionMedian,
        r.hu?.ringMedian,
        r.hu?.auc,
        r.contrast,
        r.isodense,
        r.hu?.ringBone,
        r.hu?.ringFat,
        r.hu?.ringAir,
      ]
        .map((v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : (v ?? '')))
        .join(','),
    );
  }
  await writeFile(resolve(o.out), lines.join('\n') + '\n');
}
