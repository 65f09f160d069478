import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../src/types/volume.js';
import { createRng } from '../src/util/random.js';
import { addWhiteNoise, blurInPlane, blurredNoiseStd, valueNoise3d } from '../src/synth/noise.js';
import { CATEGORY_STATS, QUANTILE_LEVELS } from '../src/synth/deeplesion-stats.js';
import { allocateCategories, PHANTOM_CATEGORIES, quantileAt } from '../src/synth/sample.js';
import { halfSpace, paint, rasterize, type RenderGrid } from '../src/synth/scene.js';
import { lesionSdf, sampleShape } from '../src/synth/shape.js';

const stats = (a: Float32Array) => {
  let s = 0;
  let s2 = 0;
  for (const v of a) {
    s += v;
    s2 += v * v;
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean) };
};

test('CT noise: blurred white noise has the requested standard deviation and is correlated in-plane', () => {
  const size: Vec3 = [96, 96, 4];
  const data = new Float32Array(96 * 96 * 4);
  const sigmaVox = 0.8;
  addWhiteNoise(data, 12 / blurredNoiseStd(sigmaVox), createRng(1));
  blurInPlane(data, size, sigmaVox);
  const { mean, std } = stats(data);
  assert.ok(Math.abs(mean) < 0.5, `mean ${mean}`);
  assert.ok(Math.abs(std - 12) < 0.6, `std ${std}`);
  let c = 0;
  for (let t = 0; t < data.length - 1; t++) if ((t + 1) % 96) c += data[t] * data[t + 1];
  const lag1 = c / (data.length - data.length / 96) / (std * std);
  assert.ok(lag1 > 0.4 && lag1 < 0.8, `lag-1 correlation ${lag1}`);
});

test('value noise: about zero mean, unit-ish variance, smooth at the cell scale', () => {
  const size: Vec3 = [64, 64, 16];
  const f = valueNoise3d(size, [1, 1, 1], 10, createRng(2));
  const { mean, std } = stats(f);
  assert.ok(Math.abs(mean) < 0.35 && std > 0.5 && std < 1.5, `mean ${mean} std ${std}`);
  let c = 0;
  for (let t = 0; t < f.length - 1; t++) c += (f[t] - mean) * (f[t + 1] - mean);
  assert.ok(c / f.length / (std * std) > 0.9);
});

test('paint: partial-volume edge of a half-space is a one-voxel linear ramp', () => {
  const grid: RenderGrid = { size: [21, 1, 1], spacingMm: [1, 1, 1], texture: new Float32Array(21) };
  const hu = new Float32Array(21).fill(-100);
  // fill x < 10 mm with 100 HU
  paint(hu, grid, { tissue: { hu: 100, textureHu: 0 }, ...halfSpace([10, 0, 0], [1, 0, 0]) });
  assert.equal(hu[9], 100);
  assert.equal(hu[10], 0); // half covered: (100 + -100) / 2
  assert.equal(hu[11], -100);
  const mask = new Uint8Array(21);
  rasterize(mask, grid, halfSpace([10.2, 0, 0], [1, 0, 0]).sdf);
  assert.deepEqual([mask[9], mask[10], mask[11]], [1, 1, 0]);
});

test('shapes: every procedural lesion is one 26-connected component, spiculated lung ones included', () => {
  const rng = createRng(5);
  for (let s = 0; s < 12; s++) {
    const cat = PHANTOM_CATEGORIES[s % PHANTOM_CATEGORIES.length];
    const shape = sampleShape(rng, cat, [24, 24, 24], rng.uniform(8, 30), rng.uniform(0.4, 1));
    const n = 48;
    const grid: RenderGrid = { size: [n, n, n], spacingMm: [1, 1, 1], texture: new Float32Array(n ** 3) };
    const mask = new Uint8Array(n ** 3);
    rasterize(mask, grid, lesionSdf(shape));
    const total = mask.reduce((a, v) => a + v, 0);
    const seen = new Uint8Array(n ** 3);
    const start = 24 + n * (24 + n * 24);
    assert.equal(mask[start], 1, 'centre inside');
    const stack = [start];
    seen[start] = 1;
    let reached = 0;
    while (stack.length) {
      const v = stack.pop()!;
      reached++;
      const i = v % n;
      const j = Math.floor(v / n) % n;
      const k = Math.floor(v / (n * n));
      for (let dk = -1; dk <= 1; dk++)
        for (let dj = -1; dj <= 1; dj++)
          for (let di = -1; di <= 1; di++) {
            const [a, b, c] = [i + di, j + dj, k + dk];
            if (a < 0 || b < 0 || c < 0 || a >= n || b >= n || c >= n) continue;
            const w = a + n * (b + n * c);
            if (mask[w] && !seen[w]) {
              seen[w] = 1;
              stack.push(w);
            }
          }
    }
    assert.equal(
      reached,
      total,
      `${cat} shape ${s} has ${total - reached} voxels outside the main component`,
    );
  }
});

test('sampling tables: quantiles interpolate the table, categories are allocated exactly', () => {
  const t = CATEGORY_STATS.liver.longMm;
  QUANTILE_LEVELS.forEach((p, q) => assert.ok(Math.abs(quantileAt(t, p) - t[q]) < 1e-9));
  assert.equal(quantileAt(t, 0.375), (t[3] + t[4]) / 2);
  const cats = allocateCategories(createRng(3), 9);
  assert.equal(cats.length, 9);
  assert.equal(new Set(cats).size, 8);
  assert.equal(allocateCategories(createRng(3), 3).length, 3);
});
