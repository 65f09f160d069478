import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeConfusion, computeOverlap } from './overlap.js';
import { squaredDistanceMm2, surfaceVoxels } from './distance.js';
import { averagedHausdorffMm, computeSegmentationMetrics } from './segmentation.js';
import { MetricsAccumulator, formatMetricsTable, meanStd } from './aggregate.js';
import { createRngForTest } from './test-rng.js';

const close = (a: number, b: number, eps = 1e-12) => assert.ok(Math.abs(a - b) <= eps, `${a} != ${b}`);

test('overlap scores of two shifted 2x2 squares, by hand', () => {
  // pred      truth      TP = (1,0),(1,1) = 2, FP = (0,0),(0,1) = 2, FN = (2,0),(2,1) = 2
  // 1 1 0     0 1 1      Dice = 2*2/(2*2+2+2) = 0.5, precision = 2/4, recall = 2/4
  // 1 1 0     0 1 1      VS = 1 - |2-2|/8 = 1
  // 0 0 0     0 0 0
  const pred = [1, 1, 0, 1, 1, 0, 0, 0, 0];
  const truth = [0, 1, 1, 0, 1, 1, 0, 0, 0];
  const c = computeConfusion(pred, truth);
  assert.deepEqual(c, { tp: 2, fp: 2, fn: 2, tn: 3 });
  assert.deepEqual(computeOverlap(c), { dice: 0.5, precision: 0.5, recall: 0.5, volumetricSimilarity: 1 });
});

test('under-segmentation: one pixel inside a three-pixel truth, by hand', () => {
  // TP 1, FP 0, FN 2: Dice = 2/(2+0+2) = 0.5, precision = 1/1, recall = 1/3, VS = 1 - |2-0|/4 = 0.5
  const s = computeOverlap(computeConfusion([0, 1, 0, 0], [1, 1, 1, 0]));
  close(s.dice, 0.5);
  close(s.precision, 1);
  close(s.recall, 1 / 3);
  close(s.volumetricSimilarity, 0.5);
});

test('edge cases: both empty scores 1 everywhere, one empty scores 0 everywhere', () => {
  assert.deepEqual(computeOverlap(computeConfusion([0, 0], [0, 0])), {
    dice: 1,
    precision: 1,
    recall: 1,
    volumetricSimilarity: 1,
  });
  const zero = { dice: 0, precision: 0, recall: 0, volumetricSimilarity: 0 };
  assert.deepEqual(computeOverlap(computeConfusion([0, 0], [1, 0])), zero);
  assert.deepEqual(computeOverlap(computeConfusion([0, 1], [0, 0])), zero);
  const g = { size: [2, 1, 1] as [number, number, number], spacingMm: [1, 1, 1] as [number, number, number] };
  assert.equal(averagedHausdorffMm([0, 0], [0, 0], g), 0);
  assert.equal(averagedHausdorffMm([1, 0], [0, 0], g), Infinity);
  assert.throws(() => computeConfusion([0], [0, 1]), RangeError);
});

test('distance transform on a line with 2 mm spacing, by hand', () => {
  // feature at index 1; positions 0,2,4,6,8 mm -> squared distances 4, 0, 4, 16, 36
  assert.deepEqual([...squaredDistanceMm2([0, 1, 0, 0, 0], [5, 1, 1], [2, 1, 1])], [4, 0, 4, 16, 36]);
  // no feature: +Infinity everywhere
  assert.deepEqual([...squaredDistanceMm2([0, 0], [2, 1, 1], [1, 1, 1])], [Infinity, Infinity]);
});

test('anisotropic 2D distance transform: centre feature of a 3x3 grid, spacing 1 x 2 mm', () => {
  // corner (0,0): dx = 1 mm, dy = 2 mm -> 1 + 4 = 5; (1,0): 4; (0,1): 1
  const d = squaredDistanceMm2([0, 0, 0, 0, 1, 0, 0, 0, 0], [3, 3, 1], [1, 2, 5]);
  assert.deepEqual([...d], [5, 4, 5, 1, 0, 1, 5, 4, 5]);
});

test('3D distance transform equals brute force on random sparse features', () => {
  const rng = createRngForTest(7);
  const size: [number, number, number] = [7, 6, 5];
  const spacing: [number, number, number] = [0.7, 1.1, 2.5];
  const n = size[0] * size[1] * size[2];
  const feat = Array.from({ length: n }, () => (rng() < 0.05 ? 1 : 0));
  feat[11] = 1;
  const d = squaredDistanceMm2(feat, size, spacing);
  const pts: number[][] = [];
  for (let v = 0; v < n; v++) if (feat[v]) pts.push(ijk(v, size));
  for (let v = 0; v < n; v++) {
    const [i, j, k] = ijk(v, size);
    let best = Infinity;
    for (const [a, b, c] of pts) {
      const e = ((i - a) * spacing[0]) ** 2 + ((j - b) * spacing[1]) ** 2 + ((k - c) * spacing[2]) ** 2;
      best = Math.min(best, e);
    }
    close(d[v], best, 1e-9);
  }
});

test('surface of a filled 4x4 square is its 12 border pixels', () => {
  const s = surfaceVoxels(new Array(16).fill(1), [4, 4, 1]);
  assert.equal(
    s.reduce((a, b) => a + b, 0),
    12,
  );
  assert.equal(s[5], 0); // (1,1) is interior
  assert.equal(s[0], 1);
});

test('AVD of two separated segments on a line, by hand', () => {
  // A = {0,1}, B = {3,4,5} on a 6x1x1 line (every voxel is on the surface in 2D since j touches the border).
  // d(A->B) = (3 + 2)/2 = 2.5; d(B->A) = (2 + 3 + 4)/3 = 3  -> AVD = 3 voxels; at 0.5 mm -> 1.5 mm
  const a = [1, 1, 0, 0, 0, 0];
  const b = [0, 0, 0, 1, 1, 1];
  close(averagedHausdorffMm(a, b, { size: [6, 1, 1], spacingMm: [1, 1, 1] }), 3);
  close(averagedHausdorffMm(a, b, { size: [6, 1, 1], spacingMm: [0.5, 1, 1] }), 1.5);
  // 'all' point set, A = {0,1}, B = {1,2}: d(A->B) = (1+0)/2, d(B->A) = (0+1)/2 -> 0.5
  close(averagedHausdorffMm([1, 1, 0], [0, 1, 1], { size: [3, 1, 1], spacingMm: [1, 1, 1] }, 'all'), 0.5);
});

test('computeSegmentationMetrics on identical 3D masks: Dice 1, AVD 0', () => {
  const m = new Uint8Array(27);
  m[13] = 1;
  m[14] = 1;
  const r = computeSegmentationMetrics(m, m, { size: [3, 3, 3], spacingMm: [1, 1, 3] });
  assert.equal(r.dice, 1);
  assert.equal(r.avdMm, 0);
  assert.equal(r.tp, 2);
});

test('accumulator: mean ± population std overall and per category, non-finite AVD counted', () => {
  // dice 0.5 and 1.0 -> mean 0.75, std sqrt(((0.25)^2 + (0.25)^2)/2) = 0.25
  const acc = new MetricsAccumulator();
  const row = (dice: number, avdMm: number) => ({
    dice,
    precision: 1,
    recall: dice,
    volumetricSimilarity: 1,
    avdMm,
  });
  acc.add('lung', row(0.5, 1));
  acc.add('lung', row(1, Infinity));
  acc.add('liver', row(0, 2));
  const r = acc.report();
  assert.equal(r.overall.n, 3);
  close(r.byCategory.lung.stats.dice.mean, 0.75);
  close(r.byCategory.lung.stats.dice.std, 0.25);
  assert.deepEqual(r.byCategory.lung.stats.avdMm, { mean: 1, std: 0, n: 1, nonFinite: 1 });
  close(r.overall.stats.dice.mean, 0.5);
  assert.deepEqual(Object.keys(r.byCategory), ['liver', 'lung']);
  const table = formatMetricsTable(r);
  assert.match(table, /lung\s+2\s+0\.75±0\.25/);
  assert.match(table, /\(\*1\)/);
  assert.ok(Number.isNaN(meanStd([Infinity]).mean));
});

function ijk(v: number, size: [number, number, number]): number[] {
  return [v % size[0], Math.floor(v / size[0]) % size[1], Math.floor(v / (size[0] * size[1]))];
}
