import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Recist } from '../types/recist.js';
import { TRIMAP, trimapCounts, trimapForeground } from './labels.js';
import { dilateBox, dilateToCount, rasterizeAxes, rasterizeEllipse } from './raster.js';
import { trimapFromRecist } from './recist-trimap.js';
import { boxTrimap, paddedRecistBox } from './box-trimap.js';

const n = 64;
// a RECIST centred in a 64 px ROI (as roi.ts makes it: side = 2 x the larger bbox side = 2 x 32)
const recist: Recist = {
  long: [
    [16, 32],
    [47, 32],
  ],
  short: [
    [31.5, 22],
    [31.5, 42],
  ],
};

test('axes raster and ellipse', () => {
  const axes = rasterizeAxes(recist, n);
  // long axis: u 16..47 on row 32 (32 px); short: v 22..42 at u = round(31.5) = 32 (21 px), sharing (32,32)
  assert.equal(
    axes.reduce((a, b) => a + b, 0),
    32 + 21 - 1,
  );
  const e = rasterizeEllipse(recist, n);
  const area = e.reduce((a, b) => a + b, 0);
  // semi-axes 15.5 and 10 -> pi * 15.5 * 10 = 487 px
  assert.ok(Math.abs(area - Math.PI * 15.5 * 10) < 25, `ellipse area ${area}`);
  assert.equal(e[32 + n * 32], 1);
  assert.equal(e[0], 0);
});

test('dilateToCount grows the seed to the requested pixel count and keeps the seed', () => {
  const axes = rasterizeAxes(recist, n);
  const d = dilateToCount(axes, n, 400);
  assert.equal(
    d.reduce((a, b) => a + b, 0),
    400,
  );
  for (let i = 0; i < axes.length; i++) if (axes[i]) assert.equal(d[i], 1);
});

test('ranked trimap: 10 % FG (inside ellipse) + axes, 20 % PFG, 20 % PBG, 50 % BG', () => {
  const t = trimapFromRecist(recist, n);
  const c = trimapCounts(t);
  const total = n * n;
  assert.equal(c.bg, total - Math.round(0.5 * total));
  // the nearest 10 % (410 px) is a ~4 px band around the axes; its parts past the ellipse near the axis
  // ends become PFG, so FG is 6..10 % here
  assert.ok(c.fg <= Math.round(0.1 * total) && c.fg > 0.06 * total, `fg ${c.fg}`);
  assert.equal(c.pfg + c.fg, Math.round(0.3 * total));
  assert.equal(c.pbg, Math.round(0.5 * total) - Math.round(0.3 * total));
  const axes = rasterizeAxes(recist, n);
  const ellipse = rasterizeEllipse(recist, n);
  for (let i = 0; i < t.length; i++) {
    if (axes[i]) assert.equal(t[i], TRIMAP.FG);
    else if (t[i] === TRIMAP.FG) assert.equal(ellipse[i], 1);
  }
  // the ROI corners are background, the RECIST centre foreground
  assert.equal(t[0], TRIMAP.BG);
  assert.equal(t[32 + n * 32], TRIMAP.FG);
  // options move the proportions
  const c2 = trimapCounts(trimapFromRecist(recist, n, { pfgFraction: 0.3, pbgFraction: 0.1 }));
  assert.equal(c2.pbg, Math.round(0.5 * total) - Math.round(0.4 * total));
  assert.equal(c2.bg, c.bg);
  assert.throws(() => trimapFromRecist(recist, n, { fgFraction: 1.5 }), RangeError);
});

test('paper trimap: outer 50 % BG, 10 % FG from the axes, the middle 40 % split in half', () => {
  const total = n * n;
  const t = trimapFromRecist(recist, n, { kind: 'paper' });
  const c = trimapCounts(t);
  assert.equal(c.bg, Math.round(0.5 * total));
  assert.equal(c.fg, Math.round(0.1 * total));
  assert.ok(Math.abs(c.pfg - c.pbg) <= 1, `pfg ${c.pfg} pbg ${c.pbg}`);
  assert.equal(t[0], TRIMAP.BG);
  assert.equal(t[32 + n * 32], TRIMAP.FG);
  // PFG is nearer the FG than PBG is: along row 32 going right from the long axis end, PFG comes before PBG
  const row = Array.from({ length: n - 48 }, (_, k) => t[48 + k + n * 32]);
  const firstPbg = row.indexOf(TRIMAP.PBG);
  const lastPfg = row.lastIndexOf(TRIMAP.PFG);
  assert.ok(lastPfg < firstPbg, `row ${row.join('')}`);
});

test('box trimaps: box = BG outside, PFG inside; box-i adds a central FG of 20 % of the box', () => {
  const [u0, v0, u1, v1] = paddedRecistBox(recist, 0.25);
  // bbox u 16..47 (31 wide), v 22..42 (20 high); padded by 12.5 % per side: 3.875 and 2.5
  assert.deepEqual([u0, v0, u1, v1], [12.125, 19.5, 50.875, 44.5]);
  const box = boxTrimap(recist, n, { innerFraction: 0 });
  const cb = trimapCounts(box);
  assert.equal(cb.fg, 0);
  // columns round(12.125) = 12 .. round(50.875) = 51, rows round(19.5) = 20 .. round(44.5) = 45: 40 x 26
  assert.equal(cb.pfg, 40 * 26);
  assert.equal(box[0], TRIMAP.BG);
  const bi = boxTrimap(recist, n);
  const ci = trimapCounts(bi);
  const ratio = ci.fg / (ci.fg + ci.pfg);
  assert.ok(Math.abs(ratio - 0.2) < 0.04, `FG share of the box ${ratio}`);
  assert.equal(bi[32 + n * 32], TRIMAP.FG);
  assert.deepEqual([...trimapForeground([0, 1, 2, 3])], [0, 1, 0, 1]);
});

test('rankBy: the packed fast path and the comparator path agree, ties by index', async () => {
  const { rankBy } = await import('./raster.js');
  const ints = [5, 0, 5, Infinity, 2, 0, 9];
  // ascending keys, ties by index, Infinity last
  assert.deepEqual([...rankBy(ints)], [1, 5, 4, 0, 2, 6, 3]);
  const frac = [5.5, 0, 5.5, Infinity, 2, 0, 9];
  assert.deepEqual([...rankBy(frac)], [1, 5, 4, 0, 2, 6, 3]);
});

test('dilateBox sets exactly the pixels within (rx, ry) of the mask (brute force on a seeded mask)', () => {
  const [w, h] = [13, 9];
  let seed = 7;
  const mask = Uint8Array.from({ length: w * h }, () =>
    (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 17 === 0 ? 1 : 0,
  );
  for (const [rx, ry] of [
    [0, 0],
    [1, 2],
    [3, 0],
  ]) {
    const got = dilateBox(mask, w, h, rx, ry);
    for (let j = 0; j < h; j++) {
      for (let i = 0; i < w; i++) {
        let want = 0;
        for (let b = Math.max(0, j - ry); b <= Math.min(h - 1, j + ry); b++)
          for (let a = Math.max(0, i - rx); a <= Math.min(w - 1, i + rx); a++) if (mask[a + w * b]) want = 1;
        assert.equal(got[i + w * j], want, `(${i}, ${j}) with r = (${rx}, ${ry})`);
      }
    }
  }
  assert.ok(mask.some((v) => v) && !mask.every((v) => v), 'the mask is neither empty nor full');
});
