import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Recist } from '../types/recist.js';
import { fallbackLabels, trimapFromCnn } from './from-cnn.js';
import { TRIMAP, trimapCounts } from './labels.js';
import { trimapFromRecist } from './recist-trimap.js';

const n = 32;
// RECIST of a disk of radius 6 centred at (16, 16)
const recist: Recist = {
  long: [
    [10, 16],
    [22, 16],
  ],
  short: [
    [16, 10],
    [16, 22],
  ],
};

function diskProb(radius: number, inside: number, outside: number): Float32Array {
  const p = new Float32Array(n * n);
  for (let v = 0; v < n; v++)
    for (let u = 0; u < n; u++) p[u + n * v] = Math.hypot(u - 16, v - 16) <= radius ? inside : outside;
  return p;
}

test('a confident CNN disk becomes FG, far confident background BG, the rest uncertain', () => {
  const t = trimapFromCnn(diskProb(6, 0.95, 0.02), n, recist);
  assert.equal(t.cnnFound, true);
  assert.equal(t.threshold, 0.5);
  assert.equal(t.trimap[16 + n * 16], TRIMAP.FG); // centre
  assert.equal(t.trimap[19 + n * 19], TRIMAP.FG); // inside the disk, off the axes: confident CNN region
  assert.equal(t.trimap[0], TRIMAP.BG); // corner
  const c = trimapCounts(t.trimap);
  // FG is exactly the disk (113 pixels of radius <= 6) since the axes lie inside it
  const disk = diskProb(6, 1, 0).reduce((a, b) => a + b, 0);
  assert.equal(c.fg, disk);
  assert.ok(c.bg > n * n * 0.5);
});

test('the threshold drops until the binarised output covers half of the axes', () => {
  // weak CNN output (0.3) on the disk: 0.5 .. 0.35 cover nothing, 0.3 covers all axes pixels
  const t = trimapFromCnn(diskProb(6, 0.3, 0.01), n, recist);
  assert.equal(t.cnnFound, true);
  assert.ok(Math.abs(t.threshold - 0.3) < 1e-9, `threshold ${t.threshold}`);
  // low-confidence region: only the axes are FG, the rest of the disk is PFG
  assert.equal(t.trimap[19 + n * 19], TRIMAP.PFG);
});

test('when the CNN finds nothing the trimap comes from the RECIST alone', () => {
  const t = trimapFromCnn(new Float32Array(n * n), n, recist);
  assert.equal(t.cnnFound, false);
  assert.deepEqual(t.trimap, trimapFromRecist(recist, n));
});

test('fallback labels: FG on the CNN region, BG away from the axes, ignored near them', () => {
  const prob = diskProb(4, 0.95, 0.02); // smaller than the RECIST (radius 6)
  const t = trimapFromCnn(prob, n, recist);
  const { y, w } = fallbackLabels(t, prob, n);
  assert.equal(y[16 + n * 16], 1);
  assert.equal(w[16 + n * 16], 1);
  assert.equal(y[0], 0);
  assert.equal(w[0], 1);
  // (22, 16) is an axis end point: FG; (24, 16) is 2 px beyond it, CNN background: ignored
  assert.equal(y[22 + n * 16], 1);
  assert.equal(w[24 + n * 16], 0);
});
