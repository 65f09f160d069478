/**
 * How well a trained stacked GAN undoes the degradations it was trained on, on CT it was not trained on
 * (held-out DeepLesion key slices, soft-tissue window), and whether it keeps edges. A benchmark, not a test.
 * - G1: PSNR of the noisy input and of G1's output against the clean crop, at noise sigma 10, 25 and 50
 *   grey levels (of 255).
 * - G2: PSNR of the degraded input (down by s = 2, blur sigma 1, contrast kappa 1.5, bicubic up) and of G2's
 *   output; and the edge ratio: mean gradient magnitude on the clean image's strongest 10% of edges, of the
 *   image over the clean one (1 = edges as sharp as the original).
 *
 *   npx tsx bench/sr/quality.ts --model DIR [--exclude FILE] [--crops 64]
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readPng16 } from '../../src/io/png16.js';
import { addNoise, degradeWith, randomCrop, type GrayImage } from '../../src/sr/degrade.js';
import { loadSrModels } from '../../src/sr/model-files.js';
import { createRng } from '../../src/util/random.js';
import { SHARED_DATA_DIR } from '../../test/helpers/shared-data.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    exclude: { type: 'string', default: '' },
    crops: { type: 'string', default: '64' },
  },
});
if (!args.model) throw new Error('--model DIR is required');
const m = await loadSrModels(args.model);
const excluded = new Set(
  args.exclude
    ? (await readFile(args.exclude, 'utf8'))
        .split(/[\n,]/)
        .map((s) => s.trim().replace(/\/$/, '').split('/').pop()!)
        .filter(Boolean)
    : [],
);
const root = join(SHARED_DATA_DIR, 'deeplesion', 'Images_png');
const slices: GrayImage[] = [];
for (const folder of (await readdir(root)).sort()) {
  if (excluded.has(folder)) continue;
  for (const f of await readdir(join(root, folder))) {
    const png = await readPng16(join(root, folder, f));
    const data = Float32Array.from(png.hu, (v) => Math.min(1, Math.max(0, (v + 160) / 400)));
    slices.push({ h: png.height, w: png.width, data });
  }
}
const rng = createRng('sr-quality');
const n = Number(args.crops);

function psnr(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (Math.min(1, Math.max(0, a[i])) - b[i]) ** 2;
  return 10 * Math.log10(1 / (s / a.length));
}

function gradMag(img: Float32Array, side: number): Float32Array {
  const g = new Float32Array(side * side);
  for (let y = 1; y < side - 1; y++)
    for (let x = 1; x < side - 1; x++) {
      const gx = img[y * side + x + 1] - img[y * side + x - 1];
      const gy = img[(y + 1) * side + x] - img[(y - 1) * side + x];
      g[y * side + x] = Math.hypot(gx, gy) / 2;
    }
  return g;
}

/** Mean gradient of `img` over the clean crop's strongest 10% edges, divided by the clean crop's. */
function edgeRatio(img: Float32Array, clean: Float32Array, side: number): number {
  const gc = gradMag(clean, side);
  const gi = gradMag(img, side);
  const cut = [...gc].sort((a, b) => b - a)[Math.floor(gc.length * 0.1)];
  let a = 0;
  let b = 0;
  for (let i = 0; i < gc.length; i++)
    if (gc[i] >= cut && cut > 0) {
      a += gi[i];
      b += gc[i];
    }
  return b > 0 ? a / b : 1;
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
process.stdout.write(
  `${slices.length} held-out DeepLesion key slices (soft-tissue window), ${n} crops per setting\n`,
);
for (const sigma of [10, 25, 50]) {
  const side = 64;
  const pin: number[] = [];
  const pout: number[] = [];
  for (let i = 0; i < n; i++) {
    const clean = randomCrop(slices[rng.int(slices.length)], side, rng);
    const noisy = addNoise(clean, sigma / 255, rng);
    const out = await m.g1.apply(noisy.data, 1, side, side);
    pin.push(psnr(noisy.data, clean.data));
    pout.push(psnr(out, clean.data));
  }
  process.stdout.write(
    `G1 sigma ${sigma}: PSNR noisy ${mean(pin).toFixed(2)} dB -> denoised ${mean(pout).toFixed(2)} dB\n`,
  );
}
{
  const side = 128;
  const pin: number[] = [];
  const pout: number[] = [];
  const ein: number[] = [];
  const eout: number[] = [];
  for (let i = 0; i < n; i++) {
    const clean = randomCrop(slices[rng.int(slices.length)], side, rng);
    const deg = degradeWith(clean, { scale: 2, blurSigma: 1, contrast: 1.5 });
    const out = await m.g2.apply(deg.data, 1, side, side);
    pin.push(psnr(deg.data, clean.data));
    pout.push(psnr(out, clean.data));
    ein.push(edgeRatio(deg.data, clean.data, side));
    eout.push(edgeRatio(out, clean.data, side));
  }
  process.stdout.write(
    `G2 (s 2, blur 1, kappa 1.5): PSNR degraded ${mean(pin).toFixed(2)} dB -> enhanced ${mean(pout).toFixed(2)} dB; ` +
      `edge ratio degraded ${mean(ein).toFixed(3)} -> enhanced ${mean(eout).toFixed(3)} (clean = 1)\n`,
  );
}
m.g1.dispose();
m.g2.dispose();
