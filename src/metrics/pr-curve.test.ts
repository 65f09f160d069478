import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrAccumulator } from './pr-curve.js';

test('PR curve of a hand-made case', () => {
  // 4 voxels: probabilities 0.9 (lesion), 0.6 (background), 0.4 (lesion), 0.1 (background); 10 bins
  const acc = new PrAccumulator(10);
  acc.add([0.9, 0.6, 0.4, 0.1], [1, 0, 1, 0]);
  const c = acc.curve();
  // one point per bin edge, from 0.9 down to 0: thresholds 0.9..0.7: TP 1 FP 0 -> recall 0.5 precision 1;
  // 0.6..0.5: TP 1 FP 1 -> 0.5, 0.5; 0.4..0.2: TP 2 FP 1 -> 1, 2/3; 0.1..0: TP 2 FP 2 -> 1, 0.5
  assert.deepEqual(
    c.map(([r, p, t]) => [r, Number(p.toFixed(4)), Number(t.toFixed(1))]),
    [
      [0.5, 1, 0.9],
      [0.5, 1, 0.8],
      [0.5, 1, 0.7],
      [0.5, 0.5, 0.6],
      [0.5, 0.5, 0.5],
      [1, 0.6667, 0.4],
      [1, 0.6667, 0.3],
      [1, 0.6667, 0.2],
      [1, 0.5, 0.1],
      [1, 0.5, 0],
    ],
  );
  // best F1: at 0.4, 2 * 1 * 2/3 / (1 + 2/3) = 0.8
  const { f, threshold } = acc.maxF();
  assert.ok(Math.abs(f - 0.8) < 1e-12);
  assert.ok(Math.abs(threshold - 0.4) < 1e-12);
});

test('probability 1 falls in the last bin and NaN is ignored', () => {
  const acc = new PrAccumulator(4);
  acc.add([1, Number.NaN], [1, 1]);
  assert.equal(acc.pos[3], 1);
  assert.equal(
    acc.pos.reduce((a, b) => a + b, 0),
    1,
  );
});
