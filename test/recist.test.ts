import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecist, recistIntersection } from '../src/recist/parse.js';
import { validateRecist, ellipsoidVolumeMm3 } from '../src/recist/validate.js';
import { estimateRecist3d } from '../src/recist/estimate3d.js';
import { recistFromMask } from '../src/recist/from-mask.js';
import { isRecist3dError } from '../src/errors.js';
import type { Mask, Vec3 } from '../src/types/volume.js';
import type { Recist } from '../src/types/recist.js';

const close = (a: number, b: number, tol: number, what = '') =>
  assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);

/** Ellipse (semi-axes a, b in mm, rotated by theta) drawn on slices ks of a volume. */
function ellipseMask(
  size: Vec3,
  spacingMm: Vec3,
  aMm: number,
  bMm: number,
  theta: number,
  ks: number[],
): Mask {
  const [ni, nj] = size;
  const data = new Uint8Array(size[0] * size[1] * size[2]);
  const ci = (ni - 1) / 2;
  const cj = (nj - 1) / 2;
  for (const k of ks)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) {
        const x = (i - ci) * spacingMm[0];
        const y = (j - cj) * spacingMm[1];
        const p = x * Math.cos(theta) + y * Math.sin(theta);
        const q = -x * Math.sin(theta) + y * Math.cos(theta);
        if ((p / aMm) ** 2 + (q / bMm) ** 2 <= 1) data[i + ni * (j + nj * k)] = 1;
      }
  return { size, spacingMm, origin: [0, 0, 0], direction: [1, 0, 0, 0, 1, 0, 0, 0, 1], data, meta: {} };
}

test('parseRecist accepts 8 numbers and rejects 7 or non-numbers with context', () => {
  const r = parseRecist('"10, 20, 30,20 20 15 20 25"');
  assert.deepEqual(r, {
    long: [
      [10, 20],
      [30, 20],
    ],
    short: [
      [20, 15],
      [20, 25],
    ],
  });
  assert.deepEqual(parseRecist([1, 2, 3, 4, 5, 6, 7, 8]).short, [
    [5, 6],
    [7, 8],
  ]);
  assert.throws(
    () => parseRecist('1,2,3,4,5,6,7', { row: 5, lesionId: 'L9' }),
    (e) =>
      isRecist3dError(e, 'E_RECIST_INVALID') &&
      /received 7/.test(e.message) &&
      /row 5/.test(e.message) &&
      /L9/.test(e.message),
  );
  assert.throws(
    () => parseRecist('1,2,3,abc,5,6,7,8'),
    (e) => isRecist3dError(e, 'E_RECIST_INVALID') && /"abc"/.test(e.message),
  );
  assert.throws(
    () => parseRecist([1, 2, 3, NaN, 5, 6, 7, 8]),
    (e) => isRecist3dError(e, 'E_RECIST_INVALID'),
  );
});

test('validateRecist measures in mm, reports the angle, and rejects bad marks', () => {
  const r: Recist = {
    long: [
      [10, 20],
      [30, 20],
    ],
    short: [
      [20, 15],
      [20, 25],
    ],
  };
  const m = validateRecist(r, [64, 64], [0.5, 2]);
  close(m.longMm, 10, 1e-9, 'long');
  close(m.shortMm, 20, 1e-9, 'short');
  close(m.angleDeg, 90, 1e-9, 'angle');
  assert.deepEqual(m.centerIJ, [20, 20]);
  assert.equal(m.shortLongerThanLong, true);

  const outside: Recist = {
    long: [
      [10, 20],
      [70, 20],
    ],
    short: [
      [20, 15],
      [20, 25],
    ],
  };
  assert.throws(
    () => validateRecist(outside, [64, 64], [1, 1], { lesionId: 'L1', row: 3 }),
    (e) => isRecist3dError(e, 'E_RECIST_OUTSIDE') && /L1/.test(e.message) && /row 3/.test(e.message),
  );
  const degenerate: Recist = {
    long: [
      [10, 20],
      [10, 20],
    ],
    short: [
      [20, 15],
      [20, 25],
    ],
  };
  assert.throws(
    () => validateRecist(degenerate, [64, 64], [1, 1]),
    (e) => isRecist3dError(e, 'E_RECIST_DEGENERATE'),
  );
  const skew: Recist = {
    long: [
      [0, 0],
      [20, 0],
    ],
    short: [
      [0, 0],
      [20, 5],
    ],
  };
  assert.throws(
    () => validateRecist(skew, [64, 64], [1, 1]),
    (e) => isRecist3dError(e, 'E_RECIST_INVALID'),
  );
  const slightlySkew: Recist = {
    long: [
      [0, 10],
      [20, 10],
    ],
    short: [
      [10, 5],
      [11, 15],
    ],
  };
  close(validateRecist(slightlySkew, [64, 64], [1, 1]).angleDeg, (Math.atan2(10, 1) * 180) / Math.PI, 1e-9);
});

test('ellipsoidVolumeMm3 = pi L W^2 / 6 (a sphere of diameter 10 is 523.6 mm^3)', () => {
  close(ellipsoidVolumeMm3(10, 10), (4 / 3) * Math.PI * 125, 1e-9);
  close(ellipsoidVolumeMm3(20, 10), (Math.PI * 20 * 100) / 6, 1e-9);
});

test('estimateRecist3d: Pythagorean shrink about the intersection, undefined past the pole', () => {
  const r: Recist = {
    long: [
      [10, 20],
      [30, 20],
    ],
    short: [
      [20, 15],
      [20, 25],
    ],
  }; // long 20 px
  const spacing: Vec3 = [1, 1, 5];
  assert.equal(estimateRecist3d(r, 4, spacing, 0), r);
  const e = estimateRecist3d(r, 4, spacing, 1)!;
  const f = Math.sqrt(100 - 25) / 10;
  close(e.long[1][0] - e.long[0][0], 20 * f, 1e-9, 'long');
  close(e.short[1][1] - e.short[0][1], 10 * f, 1e-9, 'short');
  assert.deepEqual(recistIntersection(e), [20, 20]);
  assert.deepEqual(estimateRecist3d(r, 4, spacing, -1), e);
  assert.equal(estimateRecist3d(r, 4, spacing, 2), undefined, '|dz| = L/2 vanishes');
  assert.equal(estimateRecist3d(r, 0, [1, 1, 1], -1), undefined, 'negative slice');
  assert.ok(estimateRecist3d(r, 4, [1, 1, 1], 9));
  // a flatter body: half-depth 0.7 * L/2 = 7 mm, so 5 mm off the key slice the factor is sqrt(49 - 25) / 7
  const flat = estimateRecist3d(r, 4, spacing, 1, 0.7)!;
  close(flat.long[1][0] - flat.long[0][0], (20 * Math.sqrt(49 - 25)) / 7, 1e-9, 'flat long');
  assert.equal(estimateRecist3d(r, 4, [1, 1, 1], 7, 0.7), undefined, '|dz| = 0.7 L/2 vanishes');
  assert.ok(estimateRecist3d(r, 4, [1, 1, 1], 6, 0.7));
});

test('recistFromMask on an axis-aligned ellipse with anisotropic pixels', () => {
  const m = ellipseMask([81, 41, 3], [0.5, 1, 2], 15, 6, 0, [1]);
  const res = recistFromMask(m);
  assert.equal(res.keySlice, 1);
  close(res.longMm, 30, 1.0, 'long');
  close(res.shortMm, 12, 1.01, 'short');
  assert.ok(res.longMm <= 30 && res.shortMm <= 12, 'pixel-centre lengths never exceed the true ellipse');
  const v = validateRecist(res.recist, [81, 41], [0.5, 1]);
  close(v.angleDeg, 90, 1e-6, 'perpendicular');
  close(v.longMm, res.longMm, 1e-9);
  close(v.centerIJ[0], 40, 1.5, 'centre i');
  close(v.centerIJ[1], 20, 1.5, 'centre j');
});

test('recistFromMask on a rotated ellipse finds the rotated long axis and the largest slice', () => {
  const theta = Math.PI / 6;
  const big = ellipseMask([64, 64, 5], [1, 1, 1], 20, 10, theta, [2]);
  const small = ellipseMask([64, 64, 5], [1, 1, 1], 10, 5, theta, [1, 3]);
  for (let x = 0; x < big.data.length; x++) big.data[x] |= small.data[x];
  const res = recistFromMask(big);
  assert.equal(res.keySlice, 2);
  close(res.longMm, 40, 1.5, 'long');
  close(res.shortMm, 20, 1.5, 'short');
  const [a, b] = res.recist.long;
  const ang = Math.atan2(b[1] - a[1], b[0] - a[0]);
  const diff = Math.abs(Math.sin(ang - theta));
  assert.ok(diff < 0.1, `long axis angle ${(ang * 180) / Math.PI}`);
});

test('recistFromMask noise is seeded, bounded and the same seed repeats', () => {
  const m = ellipseMask([64, 64, 1], [1, 1, 1], 20, 12, 0.2, [0]);
  const exact = recistFromMask(m);
  const a = recistFromMask(m, { noise: 0.2, seed: 5 });
  const b = recistFromMask(m, { noise: 0.2, seed: 5 });
  const c = recistFromMask(m, { noise: 0.2, seed: 6 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.recist, c.recist);
  const ratios: number[] = [];
  for (let s = 0; s < 50; s++) {
    const r = recistFromMask(m, { noise: 0.2, seed: s });
    ratios.push(r.longMm / exact.longMm);
    assert.equal(r.exactLongMm, exact.longMm);
  }
  assert.ok(Math.min(...ratios) >= 0.8 - 1e-9 && Math.max(...ratios) <= 1.2 + 1e-9);
  assert.ok(Math.max(...ratios) - Math.min(...ratios) > 0.1, 'noise actually varies');
});

test('recistFromMask errors: empty mask, single pixel', () => {
  const m = ellipseMask([16, 16, 2], [1, 1, 1], 0, 0, 0, []);
  assert.throws(
    () => recistFromMask(m, { context: { lesionId: 'X' } }),
    (e) => isRecist3dError(e, 'E_MASK_EMPTY') && /X/.test(e.message),
  );
  m.data[5 + 16 * 5] = 1;
  assert.throws(
    () => recistFromMask(m),
    (e) => isRecist3dError(e, 'E_RECIST_DEGENERATE'),
  );
});
