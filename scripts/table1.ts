/**
 * Table 1 of the paper: the five ways to turn a RECIST into a 2D training mask, scored against reference
 * masks on the RECIST slice (recall, precision, Dice mean ± std; also VS and AVD).
 *
 *   npx tsx scripts/table1.ts --images ../shared/data/lidc/image --masks ../shared/data/lidc/mask
 *   npx tsx scripts/table1.ts --manifest cohort.csv          # rows need a mask column
 *
 * With --images/--masks (files paired by name) the RECIST is measured on each mask (recistFromMask, on the
 * slice of largest area, no noise unless --noise) and the category is --category (default lung).
 * Options: --methods a,b,c  --limit N  --size 128  --iterations 5  --trimap ranked|paper  --fg 0.1 --pfg 0.2
 * --pbg 0.2 --bg 0.5  --clamp 1.2  --noise 0  --seed 0  --json out.json  --window lo,hi (overrides rows)
 * --pad constant|reflect (ROI beyond the image: -1024 HU or mirrored; see src/geometry/roi.ts)
 * DCRF: --dcrf-alpha 10 --dcrf-beta 8 --dcrf-gamma 3 --dcrf-wa 8 --dcrf-ws 3 --dcrf-fg 0.95 (see src/pseudo/dcrf.ts)
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifest } from '../src/io/manifest.js';
import { readNifti } from '../src/io/nifti.js';
import { formatStat, renderTable } from '../src/metrics/aggregate.js';
import { lesionRoi, type CohortMaskOptions } from '../src/pseudo/cohort.js';
import { compareMethods, type ComparisonLesion } from '../src/experiments/table1.js';
import { MASK_METHODS, isMaskMethod, type MaskMethod } from '../src/pseudo/methods.js';
import { recistFromMask } from '../src/recist/from-mask.js';
import type { LesionCategory, LesionRecord } from '../src/types/recist.js';

const { values: a } = parseArgs({
  options: {
    manifest: { type: 'string' },
    images: { type: 'string' },
    masks: { type: 'string' },
    category: { type: 'string', default: 'lung' },
    methods: { type: 'string', default: MASK_METHODS.join(',') },
    limit: { type: 'string', default: '0' },
    size: { type: 'string', default: '128' },
    iterations: { type: 'string', default: '5' },
    trimap: { type: 'string', default: 'ranked' },
    fg: { type: 'string', default: '0.1' },
    pfg: { type: 'string', default: '0.2' },
    pbg: { type: 'string', default: '0.2' },
    bg: { type: 'string', default: '0.5' },
    clamp: { type: 'string', default: '1.2' },
    window: { type: 'string' },
    pad: { type: 'string', default: 'constant' },
    noise: { type: 'string', default: '0' },
    seed: { type: 'string', default: '0' },
    json: { type: 'string' },
    'dcrf-alpha': { type: 'string', default: '10' },
    'dcrf-beta': { type: 'string', default: '8' },
    'dcrf-gamma': { type: 'string', default: '3' },
    'dcrf-wa': { type: 'string', default: '8' },
    'dcrf-ws': { type: 'string', default: '3' },
    'dcrf-fg': { type: 'string', default: '0.95' },
  },
});

const methods = a.methods!.split(',').map((m) => m.trim());
for (const m of methods)
  if (!isMaskMethod(m)) throw new Error(`Unknown method ${m}; expected ${MASK_METHODS.join(', ')}`);
const limit = Number(a.limit);
const window = a.window ? (a.window.split(',').map(Number) as [number, number]) : undefined;
const options: CohortMaskOptions = {
  iterations: Number(a.iterations),
  roi: { sizePx: Number(a.size), padMode: a.pad as 'constant' | 'reflect' },
  trimap: {
    kind: a.trimap as 'ranked' | 'paper',
    fgFraction: Number(a.fg),
    pfgFraction: Number(a.pfg),
    pbgFraction: Number(a.pbg),
    bgFraction: Number(a.bg),
  },
  clampEllipseScale: Number(a.clamp),
  dcrf: {
    thetaAlpha: Number(a['dcrf-alpha']),
    thetaBeta: Number(a['dcrf-beta']),
    thetaGamma: Number(a['dcrf-gamma']),
    appearanceWeight: Number(a['dcrf-wa']),
    smoothnessWeight: Number(a['dcrf-ws']),
    fgProb: Number(a['dcrf-fg']),
  },
};

async function lesionsFromPairs(imagesDir: string, masksDir: string): Promise<ComparisonLesion[]> {
  let files = (await readdir(masksDir)).filter((f) => f.endsWith('.nii.gz') || f.endsWith('.nii')).sort();
  if (limit > 0) files = files.slice(0, limit);
  const out: ComparisonLesion[] = [];
  let row = 1;
  for (const f of files) {
    row++;
    const mask = await readNifti(join(masksDir, f));
    const image = await readNifti(join(imagesDir, f));
    const lesionId = f.replace(/\.nii(\.gz)?$/, '');
    try {
      const r = recistFromMask(
        { ...mask, data: Uint8Array.from(mask.data, (v) => (v ? 1 : 0)) },
        {
          noise: Number(a.noise),
          seed: `${a.seed}:${lesionId}`,
          context: { lesionId },
        },
      );
      const record: LesionRecord = {
        lesionId,
        imagePath: join(imagesDir, f),
        maskPath: join(masksDir, f),
        keySlice: r.keySlice,
        recist: r.recist,
        category: a.category as LesionCategory,
        window,
        row,
      };
      out.push(comparisonLesion(record, image, mask.data));
    } catch (e) {
      console.error(`skipped ${lesionId}: ${(e as Error).message}`);
    }
  }
  return out;
}

function comparisonLesion(
  record: LesionRecord,
  image: Awaited<ReturnType<typeof readNifti>>,
  maskData: ArrayLike<number>,
): ComparisonLesion {
  const [ni, nj] = image.size;
  const plane = ni * nj;
  const truthSlice = new Uint8Array(plane);
  for (let p = 0; p < plane; p++) truthSlice[p] = maskData[record.keySlice * plane + p] ? 1 : 0;
  return {
    lesionId: record.lesionId,
    category: record.category,
    roi: lesionRoi(record, image, options),
    truthSlice,
    spacingMm: [image.spacingMm[0], image.spacingMm[1]],
  };
}

async function lesionsFromManifest(path: string): Promise<ComparisonLesion[]> {
  let records = (await loadManifest(path)).filter((r) => r.maskPath);
  if (limit > 0) records = records.slice(0, limit);
  const out: ComparisonLesion[] = [];
  for (const r of records) {
    try {
      const image = await readNifti(r.imagePath);
      const mask = await readNifti(r.maskPath!);
      out.push(comparisonLesion(window ? { ...r, window } : r, image, mask.data));
    } catch (e) {
      console.error(`skipped ${r.lesionId}: ${(e as Error).message}`);
    }
  }
  return out;
}

const t0 = Date.now();
const lesions = a.manifest
  ? await lesionsFromManifest(resolve(a.manifest))
  : a.images && a.masks
    ? await lesionsFromPairs(resolve(a.images), resolve(a.masks))
    : (() => {
        throw new Error('Pass --manifest M, or --images DIR and --masks DIR');
      })();
console.error(`${lesions.length} lesions loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
const results = await compareMethods(lesions, methods as MaskMethod[], options);
const rows = [['Method', 'Recall', 'Precision', 'mDICE', 'VS', 'AVD (mm)', 'fallbacks', 'ms/lesion']];
for (const r of results) {
  const s = r.report.overall.stats;
  rows.push([
    r.method,
    formatStat(s.recall),
    formatStat(s.precision),
    formatStat(s.dice),
    formatStat(s.volumetricSimilarity),
    formatStat(s.avdMm),
    String(r.fallbacks),
    r.msPerLesion.toFixed(1),
  ]);
}
console.log(
  `n = ${lesions.length}, ROI ${a.size} px, pad ${a.pad}, ${a.iterations} GrabCut iterations, trimap ${a.trimap}, clamp ${a.clamp}`,
);
console.log(renderTable(rows));
const cats = Object.keys(results[0]?.report.byCategory ?? {});
if (cats.length > 1) {
  const catRows = [['mDICE by category', ...cats.map((c) => `${c} (${results[0].report.byCategory[c].n})`)]];
  for (const r of results)
    catRows.push([r.method, ...cats.map((c) => formatStat(r.report.byCategory[c].stats.dice))]);
  console.log('');
  console.log(renderTable(catRows));
}
if (a.json) {
  await writeFile(
    a.json,
    JSON.stringify({ args: a, n: lesions.length, date: new Date().toISOString(), results }, null, 1),
  );
}
