/**
 * Fig. 8-style pictures of a trained stacked GAN (paper section 3.4): for each lesion ROI, the bicubic zoom
 * of the original (row 1), of G1's denoised image (row 2), and G2's enhanced image at the same zoom (row 3).
 * DeepLesion key slices (ROI twice the lesion's box, the row's own DICOM window) and LIDC nodule VOIs (their
 * middle slice, lung window). Reads ../shared/data; writes PNGs. Not a test.
 *
 *   npx tsx bench/sr/figure.ts --model DIR [--out docs/img] [--exclude LIST] [--count 6]
 *
 * --exclude: a file listing (one a line, or comma-separated) the DeepLesion folders the model was fine-tuned
 * on, so that only held-out key slices are shown.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { encode } from 'fast-png';
import { parseCsvRows } from '../../src/io/csv.js';
import { readNifti } from '../../src/io/nifti.js';
import { readPng16 } from '../../src/io/png16.js';
import { superResolve } from '../../src/sr/apply.js';
import { resizeBicubic, type GrayImage } from '../../src/sr/degrade.js';
import { loadSrModels } from '../../src/sr/model-files.js';
import { SHARED_DATA_DIR } from '../../test/helpers/shared-data.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    out: { type: 'string', default: 'docs/img' },
    exclude: { type: 'string', default: '' },
    count: { type: 'string', default: '6' },
    tile: { type: 'string', default: '192' },
  },
});
if (!args.model) throw new Error('--model DIR is required');
const count = Number(args.count);
const tile = Number(args.tile);
const models = await loadSrModels(args.model);
const excluded = new Set(
  args.exclude
    ? (await readFile(args.exclude, 'utf8').catch(() => args.exclude!))
        .split(/[\n,]/)
        .map((s) => s.trim().replace(/\/$/, '').split('/').pop()!)
        .filter(Boolean)
    : [],
);

function roiOf(
  hu: ArrayLike<number>,
  w: number,
  h: number,
  cx: number,
  cy: number,
  side: number,
  [lo, hi]: number[],
): GrayImage {
  const data = new Float32Array(side * side);
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++) {
      const sx = Math.min(w - 1, Math.max(0, Math.round(cx - side / 2 + x)));
      const sy = Math.min(h - 1, Math.max(0, Math.round(cy - side / 2 + y)));
      data[y * side + x] = Math.min(1, Math.max(0, (hu[sy * w + sx] - lo) / (hi - lo)));
    }
  return { h: side, w: side, data };
}

/** Rows: bicubic, denoised (bicubic), enhanced (G2 at the same zoom); columns: the ROIs. */
async function figure(rois: GrayImage[], path: string): Promise<void> {
  const gap = 4;
  const W = rois.length * (tile + gap) - gap;
  const H = 3 * (tile + gap) - gap;
  const out = new Uint8Array(W * H).fill(255);
  for (const [c, roi] of rois.entries()) {
    const zoom = tile / roi.w;
    const r = await superResolve(models, roi.data, 1, roi.h, roi.w, zoom);
    const rows = [
      resizeBicubic(roi, tile, tile).data,
      resizeBicubic({ h: roi.h, w: roi.w, data: r.denoised }, tile, tile).data,
      r.enhanced,
    ];
    for (const [ri, img] of rows.entries())
      for (let y = 0; y < tile; y++)
        for (let x = 0; x < tile; x++)
          out[(ri * (tile + gap) + y) * W + c * (tile + gap) + x] = Math.round(
            255 * Math.min(1, Math.max(0, img[y * tile + x])),
          );
  }
  await writeFile(path, encode({ width: W, height: H, data: out, channels: 1, depth: 8 }));
  process.stdout.write(`wrote ${path} (${rois.length} ROIs)\n`);
}

const dl = join(SHARED_DATA_DIR, 'deeplesion');
const { rows } = parseCsvRows(await readFile(join(dl, 'DL_info.csv'), 'utf8'), 'DL_info.csv', 'DL_info');
const dlRois: GrayImage[] = [];
const dlNames: string[] = [];
for (const { record: r } of rows) {
  if (dlRois.length >= count) break;
  const folder = r.File_name.slice(0, 12);
  if (excluded.has(folder)) continue;
  const file = join(dl, 'Images_png', folder, r.File_name.slice(13));
  const png = await readPng16(file).catch(() => undefined);
  if (!png) continue;
  const [x1, y1, x2, y2] = r.Bounding_boxes.split(',').map(Number);
  const side = Math.max(48, Math.round(2 * Math.max(x2 - x1, y2 - y1)));
  dlRois.push(
    roiOf(
      png.hu,
      png.width,
      png.height,
      (x1 + x2) / 2,
      (y1 + y2) / 2,
      side,
      r.DICOM_windows.split(',').map(Number),
    ),
  );
  dlNames.push(r.File_name);
}
process.stdout.write(`DeepLesion key slices: ${dlNames.join(' ')}\n`);
await figure(dlRois, join(args.out, 'sr-deeplesion.png'));

const lidcDir = join(SHARED_DATA_DIR, 'lidc', 'image');
const lidcFiles = (await readdir(lidcDir))
  .sort()
  .filter((_, i) => i % 50 === 0)
  .slice(0, count);
const lidcRois: GrayImage[] = [];
for (const f of lidcFiles) {
  const v = await readNifti(join(lidcDir, f));
  const [nx, ny, nz] = v.size;
  const k = Math.floor(nz / 2);
  const slice = v.data.subarray(k * nx * ny, (k + 1) * nx * ny);
  lidcRois.push(roiOf(slice, nx, ny, nx / 2, ny / 2, Math.min(nx, ny), [-1350, 150]));
}
process.stdout.write(`LIDC VOIs (middle slice): ${lidcFiles.join(' ')}\n`);
await figure(lidcRois, join(args.out, 'sr-lidc.png'));
models.g1.dispose();
models.g2.dispose();
