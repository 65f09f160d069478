import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Vec3 } from '../src/types/volume.js';
import { createRng } from '../src/util/random.js';
import { addWhiteNoise, blurInPlane, blurredNoiseStd, valueNoise3d } from '../src/synth/noise.js';
import { CATEGORY_STATS, QUANTILE_LEVELS } from '../src/synth/deeplesion-stats.js';
import { allocateCategories, PHANTOM_CATEGORIES, quantileAt } from '../src/synth/sample.js';
import { halfSpace, paint, rasterize, type RenderGrid, type Sdf } from '../src/synth/scene.js';
import { halfExtentMm, lesionSdf, sampleGrowthAxes, sampleShape } from '../src/synth/shape.js';
import { librarySdf, libraryShape } from '../src/synth/library.js';
import { IDENTITY_DIRECTION } from '../src/types/volume.js';

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

/** Rasterises `sdf` on an n^3 grid of `spacingMm`; voxel count and the extent (mm, first to last voxel). */
function render(
  sdf: Sdf,
  n: number,
  spacingMm: number,
): { count: number; extentMm: Vec3; lo: Vec3; hi: Vec3 } {
  const grid: RenderGrid = {
    size: [n, n, n],
    spacingMm: [spacingMm, spacingMm, spacingMm],
    texture: new Float32Array(0),
  };
  const mask = new Uint8Array(n ** 3);
  rasterize(mask, grid, sdf);
  const lo: Vec3 = [n, n, n];
  const hi: Vec3 = [-1, -1, -1];
  let count = 0;
  for (let t = 0; t < mask.length; t++) {
    if (!mask[t]) continue;
    count++;
    const ijk = [t % n, Math.floor(t / n) % n, Math.floor(t / (n * n))];
    for (let a = 0; a < 3; a++) {
      lo[a] = Math.min(lo[a], ijk[a]);
      hi[a] = Math.max(hi[a], ijk[a]);
    }
  }
  const extentMm = [0, 1, 2].map((a) => (hi[a] - lo[a] + 1) * spacingMm) as Vec3;
  return { count, extentMm, lo, hi };
}

test('growth axes: product 1, seeded, spread about sigma, [1, 1, 1] without spread', () => {
  assert.deepEqual(sampleGrowthAxes(createRng(4), 0), [1, 1, 1]);
  assert.deepEqual(sampleGrowthAxes(createRng('g:1'), 0.18), sampleGrowthAxes(createRng('g:1'), 0.18));
  const rng = createRng(7);
  const logs: number[] = [];
  for (let t = 0; t < 400; t++) {
    const g = sampleGrowthAxes(rng, 0.18);
    assert.ok(Math.abs(g[0] * g[1] * g[2] - 1) < 1e-12, `product ${g[0] * g[1] * g[2]}`);
    logs.push(Math.log(g[0]));
  }
  // centred logs of 3 draws: sd = sigma * sqrt(2/3) (slightly less with the 2-sigma clip)
  const sd = Math.sqrt(logs.reduce((a, l) => a + l * l, 0) / logs.length);
  assert.ok(sd > 0.8 * 0.18 * Math.sqrt(2 / 3) && sd < 1.1 * 0.18 * Math.sqrt(2 / 3), `sd ${sd}`);
});

test('uneven growth of procedural shapes: volume times scale^3, each own axis by scale * factor, inside the box', () => {
  const rng = createRng(12);
  const scale = 0.9;
  const g: Vec3 = [1.25, 0.85, 1 / (1.25 * 0.85)];
  const n = 96;
  const sp = 0.4;
  const c: Vec3 = [(n / 2) * sp, (n / 2) * sp, (n / 2) * sp];
  for (const cat of ['liver', 'lung', 'kidney', 'bone'] as const) {
    // own axes = world axes, so the per-axis extents can be compared directly
    const shape = { ...sampleShape(rng, cat, c, 22, 0.7), angleRad: 0, tiltRad: 0 };
    const grown = { ...shape, scale, growthAxes: g };
    const b = render(lesionSdf(shape), n, sp);
    const f = render(lesionSdf(grown), n, sp);
    const ratio = f.count / b.count;
    assert.ok(Math.abs(ratio / scale ** 3 - 1) < 0.03, `${cat}: volume ratio ${ratio} vs ${scale ** 3}`);
    for (let a = 0; a < 3; a++) {
      const want = b.extentMm[a] * scale * g[a];
      assert.ok(Math.abs(f.extentMm[a] - want) <= 2.5 * sp, `${cat} axis ${a}: ${f.extentMm[a]} vs ${want}`);
    }
    // the bounding box used for crops and caches holds the grown lesion
    const half = halfExtentMm(grown);
    for (let a = 0; a < 3; a++) {
      assert.ok(
        f.lo[a] * sp >= c[a] - half[a] - sp && f.hi[a] * sp <= c[a] + half[a] + sp,
        `${cat} axis ${a}`,
      );
      assert.ok(f.lo[a] > 0 && f.hi[a] < n - 1, `${cat}: touches the grid border on axis ${a}`);
    }
  }
});

test('uneven growth of real shapes: librarySdf with per-axis factors stretches each axis, volume by the product', () => {
  // a lumpy source mask: two overlapping ellipsoids on a 1 mm grid
  const size: Vec3 = [32, 32, 24];
  const data = new Uint8Array(32 * 32 * 24);
  for (let k = 0; k < 24; k++)
    for (let j = 0; j < 32; j++)
      for (let i = 0; i < 32; i++) {
        const e1 = ((i - 14) / 10) ** 2 + ((j - 16) / 7) ** 2 + ((k - 12) / 6) ** 2;
        const e2 = ((i - 21) / 5) ** 2 + ((j - 13) / 5) ** 2 + ((k - 12) / 5) ** 2;
        data[i + 32 * (j + 32 * k)] = e1 <= 1 || e2 <= 1 ? 1 : 0;
      }
  const mask = {
    size,
    spacingMm: [1, 1, 1] as Vec3,
    origin: [0, 0, 0] as Vec3,
    direction: IDENTITY_DIRECTION,
    data,
    meta: {},
  };
  const shape = libraryShape(mask, 'two-ellipsoids');
  const n = 100;
  const sp = 0.5;
  const c: Vec3 = [25, 25, 25];
  const k: Vec3 = [1.3, 0.9, 1 / (1.3 * 0.9)];
  const b = render(librarySdf(shape, c, 0, 1), n, sp);
  const f = render(librarySdf(shape, c, 0, k), n, sp);
  assert.ok(Math.abs(f.count / b.count - 1) < 0.03, `volume ratio ${f.count / b.count}`);
  for (let a = 0; a < 3; a++) {
    const want = b.extentMm[a] * k[a];
    assert.ok(Math.abs(f.extentMm[a] - want) <= 3 * sp, `axis ${a}: ${f.extentMm[a]} vs ${want}`);
  }
  // one number is the same as three equal ones
  assert.equal(
    render(librarySdf(shape, c, 0.3, 1.1), n, sp).count,
    render(librarySdf(shape, c, 0.3, [1.1, 1.1, 1.1]), n, sp).count,
  );
});
