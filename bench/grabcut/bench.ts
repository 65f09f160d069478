/**
 * recist3d's native grabCut against cv2.grabCut (Debian python3-opencv via /usr/bin/python3) on identical
 * ROIs and iteration counts. Never part of CI.
 *
 *   npx tsx bench/grabcut/bench.ts [--rois 40] [--repeats 5] [--iterations 5] [--size 128] [--phantoms 0]
 *
 * ROIs: GrabCut-R trimaps of the first --rois LIDC nodules (../shared/data/lidc) when present, else synthetic
 * disks. Per ROI, single-threaded, each engine runs --repeats times (interleaved, so both see the same load);
 * the median per ROI is taken and the ratio recist3d / cv2 printed (target <= 1.1). Batched throughput
 * (all ROIs in one native call, default threads) is reported separately, and the masks of both engines are
 * compared pixel by pixel. With --phantoms N > 0, also times `recist3d masks` on an N-lesion phantom cohort
 * (recist3d synth) and prints lesions/s; --phantom-manifest M times it on an existing cohort instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractRoi, type Roi } from '../../src/geometry/roi.js';
import { readNifti } from '../../src/io/nifti.js';
import { grabCutWithStatus, setThreads } from '../../src/model/binding.js';
import { planLesionMask } from '../../src/pseudo/methods.js';
import { recistFromMask } from '../../src/recist/from-mask.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const { values: a } = parseArgs({
  options: {
    rois: { type: 'string', default: '40' },
    repeats: { type: 'string', default: '5' },
    iterations: { type: 'string', default: '5' },
    size: { type: 'string', default: '128' },
    phantoms: { type: 'string', default: '0' },
    'phantom-manifest': { type: 'string' },
  },
});
const nRois = Number(a.rois);
const repeats = Number(a.repeats);
const iterations = Number(a.iterations);
const size = Number(a.size);
const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function lidcRois(): Promise<Roi[] | undefined> {
  const dir = resolve(repo, '..', 'shared', 'data', 'lidc');
  if (!existsSync(join(dir, 'mask'))) return undefined;
  const files = (await readdir(join(dir, 'mask'))).filter((f) => f.endsWith('.nii.gz')).sort();
  const rois: Roi[] = [];
  for (const f of files.slice(0, nRois)) {
    const mask = await readNifti(join(dir, 'mask', f));
    const image = await readNifti(join(dir, 'image', f));
    const r = recistFromMask({ ...mask, data: Uint8Array.from(mask.data, (v) => (v ? 1 : 0)) });
    const [ni, nj] = image.size;
    const slice = image.data.subarray(r.keySlice * ni * nj, (r.keySlice + 1) * ni * nj);
    rois.push(extractRoi(slice, [ni, nj], r.recist, { sizePx: size, category: 'lung' }));
  }
  return rois;
}

function syntheticRois(): Roi[] {
  const ni = 96;
  return Array.from({ length: nRois }, (_, k) => {
    const rad = 6 + (k % 7);
    const slice = new Float32Array(ni * ni);
    for (let j = 0; j < ni; j++)
      for (let i = 0; i < ni; i++)
        slice[i + ni * j] =
          ((i - 48) ** 2 + (j - 48) ** 2 <= rad * rad ? 40 : -100) +
          20 * Math.sin(i * 0.7 + j * (1 + k / 10));
    return extractRoi(
      slice,
      [ni, ni],
      {
        long: [
          [48 - rad, 48],
          [48 + rad, 48],
        ],
        short: [
          [48, 48 - rad],
          [48, 48 + rad],
        ],
      },
      { sizePx: size },
    );
  });
}

const rois = (await lidcRois()) ?? syntheticRois();
const source =
  rois.length && existsSync(resolve(repo, '..', 'shared', 'data', 'lidc'))
    ? 'LIDC nodules'
    : 'synthetic disks';
const n = rois.length;
const plane = size * size;
const images = new Uint8Array(n * plane * 3);
const trimaps = new Uint8Array(n * plane);
rois.forEach((roi, k) => {
  const p = planLesionMask(roi, { method: 'grabcut-r' });
  if (p.kind !== 'grabcut') throw new Error('unreachable');
  trimaps.set(p.trimap, k * plane);
  for (let q = 0; q < plane; q++) images.fill(roi.image[q], 3 * (k * plane + q), 3 * (k * plane + q) + 3);
});
const tmp = await mkdtemp(join(tmpdir(), 'r3d-gcbench-'));
await writeFile(join(tmp, 'rois.json'), JSON.stringify({ n, h: size, w: size, iterations }));
await writeFile(join(tmp, 'rois.bin'), Buffer.concat([images, trimaps]));

const py = '/usr/bin/python3';
const pyScript = join(here, 'cv2_grabcut.py');
const oursMs: number[][] = Array.from({ length: n }, () => []);
const cvMs: number[][] = Array.from({ length: n }, () => []);
let oursMasks = new Uint8Array(0);
setThreads(1);
for (let r = 0; r < repeats; r++) {
  const out = new Uint8Array(n * plane);
  for (let k = 0; k < n; k++) {
    const t0 = performance.now();
    const res = await grabCutWithStatus({
      images: images.subarray(k * plane * 3, (k + 1) * plane * 3),
      trimaps: trimaps.subarray(k * plane, (k + 1) * plane),
      n: 1,
      h: size,
      w: size,
      iterations,
    });
    oursMs[k].push(performance.now() - t0);
    out.set(res.masks, k * plane);
  }
  oursMasks = out;
  const cv = JSON.parse(execFileSync(py, [pyScript, tmp, '1'], { encoding: 'utf8' })) as {
    ms: number[];
    opencv: string;
  };
  cv.ms.forEach((ms, k) => cvMs[k].push(ms));
}
const cvMasks = new Uint8Array(await readFile(join(tmp, 'cv2_masks.bin')));
let same = 0;
for (let i = 0; i < cvMasks.length; i++) if (cvMasks[i] === oursMasks[i]) same++;

const medOurs = oursMs.map(median);
const medCv = cvMs.map(median);
const ratios = medOurs.map((m, k) => m / medCv[k]);
const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
console.log(
  `GrabCut bench: ${n} ROIs (${source}), ${size}x${size}, ${iterations} iterations, ${repeats} repeats, 1 thread`,
);
console.log(
  `  recist3d grabCut  median per ROI ${median(medOurs).toFixed(2)} ms, total ${sum(medOurs).toFixed(1)} ms`,
);
console.log(
  `  cv2.grabCut       median per ROI ${median(medCv).toFixed(2)} ms, total ${sum(medCv).toFixed(1)} ms`,
);
console.log(
  `  ratio recist3d/cv2 per ROI: median ${median(ratios).toFixed(3)}, max ${Math.max(...ratios).toFixed(3)}; ` +
    `of totals ${(sum(medOurs) / sum(medCv)).toFixed(3)} (target <= 1.1)`,
);
console.log(`  identical mask pixels: ${((100 * same) / cvMasks.length).toFixed(3)} %`);

// Batched throughput: all ROIs in one call, default threads (RECIST3D_THREADS or all cores).
setThreads(Number(process.env.RECIST3D_THREADS ?? 2));
const batchMs: number[] = [];
for (let r = 0; r < repeats; r++) {
  const t0 = performance.now();
  await grabCutWithStatus({ images, trimaps, n, h: size, w: size, iterations });
  batchMs.push(performance.now() - t0);
}
console.log(
  `  batched (${n} ROIs per call, ${process.env.RECIST3D_THREADS ?? 2} threads): ${((1000 * n) / median(batchMs)).toFixed(1)} ROIs/s ` +
    `vs ${((1000 * n) / sum(medCv)).toFixed(1)} ROIs/s for a cv2 loop on 1 thread`,
);
await rm(tmp, { recursive: true, force: true });

const nPhantoms = Number(a.phantoms);
const cli = ['--import', 'tsx', join(repo, 'src', 'cli', 'main.ts')];
/** Times `recist3d masks` (a fresh process, so start-up is included) and prints lesions/s. */
function timeMasks(manifest: string, outDir: string, count: number): void {
  const t0 = performance.now();
  const m = spawnSync('node', [...cli, 'masks', '--manifest', manifest, '--out', outDir], {
    encoding: 'utf8',
  });
  const s = (performance.now() - t0) / 1000;
  console.log(
    `  recist3d masks on ${count} phantom lesions: ${s.toFixed(1)} s wall (process start included), ` +
      `${(count / s).toFixed(1)} lesions/s`,
  );
  console.log(`    ${m.stdout.trim().split('\n').pop()}`);
}
if (a['phantom-manifest']) {
  const manifest = resolve(a['phantom-manifest']);
  const count = (await readFile(manifest, 'utf8')).trim().split('\n').length - 1;
  const out = await mkdtemp(join(tmpdir(), 'r3d-phantom-masks-'));
  timeMasks(manifest, out, count);
  await rm(out, { recursive: true, force: true });
} else if (nPhantoms > 0) {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-phantoms-'));
  const synthArgs = [...cli, 'synth', '--out', dir, '--lesions', String(nPhantoms), '--seed', '7'];
  const synth = spawnSync('node', synthArgs, { encoding: 'utf8' });
  if (synth.status !== 0) console.log(`  recist3d synth failed: ${synth.stderr.slice(-400)}`);
  else timeMasks(join(dir, 'manifest.csv'), join(dir, 'masks'), nPhantoms);
  await rm(dir, { recursive: true, force: true });
}
