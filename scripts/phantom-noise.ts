/**
 * Compares CT noise of phantoms with real DeepLesion key slices (docs/phantom.md):
 *
 *   node --import tsx scripts/phantom-noise.ts
 *
 * On soft-tissue pixels (7x7 local mean 40..160 HU): the 20th percentile of the 7x7 local standard deviation
 * (noise level where the tissue is homogeneous) and the lag-1 correlation of the residual after a 5x5 box
 * mean (noise grain). Prints the medians over the real slices and over 10 phantom liver/abdomen RECIST slices.
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { decode } from 'fast-png';
import { parse } from 'csv-parse/sync';
import { planCohort, generateStudy } from '../src/synth/cohort.js';
function stats(im: Float32Array, w: number, h: number) {
  const box = (a: Float32Array, r: number) => {
    const o = new Float32Array(a.length);
    for (let y = r; y < h - r; y++)
      for (let x = r; x < w - r; x++) {
        let s = 0;
        for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) s += a[(y + dy) * w + x + dx];
        o[y * w + x] = s / (2 * r + 1) ** 2;
      }
    return o;
  };
  const m = box(im, 3);
  const sq = box(
    im.map((v) => v * v),
    3,
  );
  const m1 = box(im, 2);
  const sds: number[] = [];
  let sxy = 0,
    sxx = 0;
  for (let y = 4; y < h - 4; y++)
    for (let x = 4; x < w - 5; x++) {
      const t = y * w + x;
      if (m[t] > 40 && m[t] < 160 && m[t + 1] > 40 && m[t + 1] < 160) {
        sds.push(Math.sqrt(Math.max(0, sq[t] - m[t] * m[t])));
        const a = im[t] - m1[t],
          b = im[t + 1] - m1[t + 1];
        sxy += a * b;
        sxx += a * a;
      }
    }
  sds.sort((a, b) => a - b);
  if (sds.length < 100) return undefined;
  return [sds[Math.floor(sds.length * 0.2)], sxy / sxx];
}
const dir = resolve(process.env.RECIST3D_SHARED_DATA ?? '../shared/data', 'deeplesion');
const rows = parse(readFileSync(dir + '/DL_info.csv', 'utf8'), { columns: true }) as Record<string, string>[];
const real: number[][] = [];
for (const r of rows) {
  const f = r.File_name;
  const p = `${dir}/Images_png/${f.slice(0, 12)}/${f.slice(13)}`;
  if (!existsSync(p)) continue;
  const im = decode(readFileSync(p));
  const rs = stats(
    Float32Array.from(im.data as Uint16Array, (v) => v - 32768),
    im.width,
    im.height,
  );
  if (rs) real.push(rs);
}
const ph: number[][] = [];
for (const p of planCohort({ lesions: 30, seed: 3 })
  .filter((p) => p.category === 'liver' || p.category === 'abdomen')
  .slice(0, 10)) {
  const c = generateStudy(p);
  const [ni, nj] = c.image.size;
  const k = c.recist.keySlice;
  const ps = stats(Float32Array.from(c.image.data.subarray(k * ni * nj, (k + 1) * ni * nj)), ni, nj);
  if (ps) ph.push(ps);
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(
  'real  n',
  real.length,
  'local std p20 median',
  med(real.map((x) => x[0])).toFixed(1),
  'lag1 corr',
  med(real.map((x) => x[1])).toFixed(2),
);
console.log('real all', real.map((x) => x[0].toFixed(0) + '/' + x[1].toFixed(2)).join(' '));
console.log(
  'phantom n',
  ph.length,
  'local std p20 median',
  med(ph.map((x) => x[0])).toFixed(1),
  'lag1 corr',
  med(ph.map((x) => x[1])).toFixed(2),
);
console.log('ph all', ph.map((x) => x[0].toFixed(0) + '/' + x[1].toFixed(2)).join(' '));
