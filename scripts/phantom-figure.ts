/**
 * Draws docs/img/phantom-*.png: phantom RECIST slices per category next to real DeepLesion key slices.
 *
 *   node --import tsx scripts/phantom-figure.ts [--seed 7] [--per-row 6] [--out docs/img]
 *
 * Every tile shows the same physical field of view (2.5 x the long axis, 40..110 mm) resampled to
 * TILE x TILE pixels, windowed with the lesion's window. Phantoms: GT contour in green. Real slices:
 * RECIST marks in red (real crops are small derived thumbnails; the real PNGs are never copied).
 */
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decode, encode } from 'fast-png';
import { parse } from 'csv-parse/sync';
import { drawContour, drawSegment, hstack, renderSlice, type Rgb } from '../src/report/render.js';
import { recistFromMask } from '../src/recist/from-mask.js';
import { planCohort } from '../src/synth/cohort.js';
import { generatePhantom, type Phantom } from '../src/synth/phantom.js';
import { PHANTOM_CATEGORIES, type PhantomCategory } from '../src/synth/sample.js';
import { CATEGORY_STATS } from '../src/synth/deeplesion-stats.js';

const TILE = Number(process.argv.includes('--tile') ? process.argv[process.argv.indexOf('--tile') + 1] : 88);
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1] : dflt;
};
const seed = Number(opt('seed', '7'));
const perRow = Number(opt('per-row', '6'));
const outDir = resolve(opt('out', 'docs/img'));
const sharedDir = resolve(process.env.RECIST3D_SHARED_DATA ?? '../shared/data', 'deeplesion');

/** Bilinear resample of a slice region (centre cx, cy in voxels; side in mm) to TILE x TILE. */
function resample(
  slice: ArrayLike<number>,
  ni: number,
  nj: number,
  spacingMm: number,
  cx: number,
  cy: number,
  sideMm: number,
  nearest = false,
): Float32Array {
  const out = new Float32Array(TILE * TILE);
  const step = sideMm / TILE / spacingMm;
  for (let y = 0; y < TILE; y++) {
    for (let x = 0; x < TILE; x++) {
      const fi = cx + (x + 0.5 - TILE / 2) * step;
      const fj = cy + (y + 0.5 - TILE / 2) * step;
      const at = (i: number, j: number) =>
        slice[Math.min(ni - 1, Math.max(0, i)) + ni * Math.min(nj - 1, Math.max(0, j))];
      if (nearest) {
        out[x + TILE * y] = at(Math.round(fi), Math.round(fj));
        continue;
      }
      const i0 = Math.floor(fi);
      const j0 = Math.floor(fj);
      const u = fi - i0;
      const v = fj - j0;
      out[x + TILE * y] =
        (1 - v) * ((1 - u) * at(i0, j0) + u * at(i0 + 1, j0)) +
        v * ((1 - u) * at(i0, j0 + 1) + u * at(i0 + 1, j0 + 1));
    }
  }
  return out;
}

const fovMm = (longMm: number) => Math.min(110, Math.max(40, 2.5 * longMm));
const full = { i0: 0, j0: 0, w: TILE, h: TILE };

/** A tile of a phantom's RECIST slice (or slice `k`), GT contour in green; `sideMm` defaults to fovMm. */
function phantomTile(ph: Phantom, windowHu: readonly [number, number], sideMm?: number): Rgb {
  const r = recistFromMask(ph.mask);
  const [ni, nj] = ph.image.size;
  const k = r.keySlice;
  const sl = ph.image.data.subarray(k * ni * nj, (k + 1) * ni * nj);
  const ml = ph.mask.data.subarray(k * ni * nj, (k + 1) * ni * nj);
  const cx = (r.recist.long[0][0] + r.recist.long[1][0]) / 2;
  const cy = (r.recist.long[0][1] + r.recist.long[1][1]) / 2;
  const side = Math.min(sideMm ?? fovMm(r.longMm), ni * ph.image.spacingMm[0]);
  const hu = resample(sl, ni, nj, ph.image.spacingMm[0], cx, cy, side);
  const m = resample(ml, ni, nj, ph.image.spacingMm[0], cx, cy, side, true);
  const img = renderSlice(hu, TILE, TILE, full, [windowHu[0], windowHu[1]]);
  drawContour(img, m, TILE, TILE, full, 1, [0, 220, 0]);
  return img;
}

/** Phantom tiles of one category. */
function phantomTiles(category: PhantomCategory, count: number): Rgb[] {
  const plan = planCohort({
    lesions: count * 4,
    seed: seed + PHANTOM_CATEGORIES.indexOf(category) * 1000,
    followUpFraction: 0,
  });
  return plan
    .slice(0, count)
    .map((p) => phantomTile(generatePhantom({ ...p.spec, category }), CATEGORY_STATS[category].windowHu));
}

/** Lesions touched by a structure of similar density (first `count` of a cohort). */
function touchingTiles(count: number): Rgb[] {
  const plan = planCohort({ lesions: count * 6, seed, followUpFraction: 0, touchingFraction: 1 });
  return plan.slice(0, count).map((p) => phantomTile(generatePhantom(p.spec), p.windowHu));
}

/** Follow-up pairs: baseline and follow-up tiles side by side, same field of view. */
function followUpTiles(pairs: number): Rgb[] {
  const plan = planCohort({ lesions: pairs * 2 + 8, seed, followUpFraction: 1, minLongMm: 12 });
  const tiles: Rgb[] = [];
  for (const f of plan.filter((p) => p.timepoint === 1).slice(0, pairs)) {
    const b = plan.find((p) => p.lesionId === f.lesionId.replace(/_t1$/, '_t0'))!;
    const side = fovMm(b.spec.longMm * Math.max(1, Math.cbrt(f.volumeRatio)));
    tiles.push(phantomTile(generatePhantom(b.spec), b.windowHu, side));
    tiles.push(phantomTile(generatePhantom(f.spec), f.windowHu, side));
  }
  return tiles;
}

/** Real DeepLesion key slices (all liver here) with their RECIST in red. */
function realTiles(count: number): Rgb[] {
  const csv = join(sharedDir, 'DL_info.csv');
  if (!existsSync(csv)) return [];
  const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
  const tiles: Rgb[] = [];
  for (const row of rows) {
    if (tiles.length >= count) break;
    const name = row.File_name;
    const png = join(sharedDir, 'Images_png', name.slice(0, 12), name.slice(13));
    if (!existsSync(png)) continue;
    const im = decode(readFileSync(png));
    const hu = Float32Array.from(im.data as Uint16Array, (v) => v - 32768);
    const c = row.Measurement_coordinates.split(',').map(Number);
    const s = Number(row.Spacing_mm_px_.split(',')[0]);
    const longMm = Math.hypot(c[2] - c[0], c[3] - c[1]) * s;
    if (longMm < 8) continue;
    const cx = (c[0] + c[2]) / 2;
    const cy = (c[1] + c[3]) / 2;
    const side = fovMm(longMm);
    const tileHu = resample(hu, im.width, im.height, s, cx, cy, side);
    const win = row.DICOM_windows.split(',').map(Number) as [number, number];
    const img = renderSlice(tileHu, TILE, TILE, full, win);
    const scale = TILE / (side / s);
    const toTile = (x: number, y: number): [number, number] => [
      (x - cx) * scale + TILE / 2 - 0.5,
      (y - cy) * scale + TILE / 2 - 0.5,
    ];
    drawSegment(img, toTile(c[0], c[1]), toTile(c[2], c[3]), { i0: 0, j0: 0 }, 1, [230, 40, 40]);
    drawSegment(img, toTile(c[4], c[5]), toTile(c[6], c[7]), { i0: 0, j0: 0 }, 1, [230, 40, 40]);
    tiles.push(img);
  }
  return tiles;
}

function vstack(images: Rgb[], gap = 4): Rgb {
  const w = Math.max(...images.map((im) => im.w));
  const h = images.reduce((a, im) => a + im.h, 0) + gap * (images.length - 1);
  const data = new Uint8Array(w * h * 3);
  let y0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.h; y++)
      data.set(im.data.subarray(y * im.w * 3, (y + 1) * im.w * 3), (y0 + y) * w * 3);
    y0 += im.h + gap;
  }
  return { w, h, data };
}

/**
 * Indexed-colour PNG (a third of the RGB size): 254 grey levels plus the two contour colours, so the
 * committed figures stay well under 300 KB.
 */
function encodePng(img: Rgb): Uint8Array {
  const GREYS = 254;
  const palette: [number, number, number][] = [];
  for (let g = 0; g < GREYS; g++) {
    const v = Math.round((g * 255) / (GREYS - 1));
    palette.push([v, v, v]);
  }
  palette.push([0, 220, 0], [230, 40, 40]);
  const idx = new Uint8Array(img.w * img.h);
  for (let t = 0; t < idx.length; t++) {
    const [r, g, b] = [img.data[3 * t], img.data[3 * t + 1], img.data[3 * t + 2]];
    if (r === g && g === b) idx[t] = Math.round((r * (GREYS - 1)) / 255);
    else idx[t] = g > r ? GREYS : GREYS + 1;
  }
  return encode({ width: img.w, height: img.h, data: idx, channels: 1, depth: 8, palette });
}

mkdirSync(outDir, { recursive: true });
const real = realTiles(perRow);
if (real.length > 0) {
  const liverVsReal = vstack([hstack(real), hstack(phantomTiles('liver', perRow))]);
  writeFileSync(join(outDir, 'phantom-liver-vs-real.png'), encodePng(liverVsReal));
} else {
  process.stderr.write(`no real DeepLesion slices under ${sharedDir}: skipping phantom-liver-vs-real.png\n`);
}
const rows = PHANTOM_CATEGORIES.map((c) => hstack(phantomTiles(c, perRow)));
writeFileSync(join(outDir, 'phantom-categories.png'), encodePng(vstack(rows)));
writeFileSync(join(outDir, 'phantom-touching.png'), encodePng(hstack(touchingTiles(perRow))));
writeFileSync(
  join(outDir, 'phantom-follow-up.png'),
  encodePng(hstack(followUpTiles(Math.floor(perRow / 2)))),
);
process.stderr.write(`wrote ${outDir}/phantom-*.png (${real.length} real tiles)\n`);
