import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractRoi, roiMaskToSlice } from '../geometry/roi.js';
import { computeConfusion, computeOverlap } from '../metrics/overlap.js';
import { TRIMAP, trimapForeground } from '../trimap/labels.js';
import type { Recist } from '../types/recist.js';
import { masksForRois } from './cohort.js';
import { denseCrfMask, gaussianFilter } from './dcrf.js';
import type { GrabCutFn } from './grabcut.js';
import { MASK_METHODS, planLesionMask } from './methods.js';

// A 96 x 96 slice: soft-tissue disk (40 HU, radius 12 px) at (48, 44) in fat (-100 HU), mild texture.
const ni = 96;
const slice = new Float32Array(ni * ni);
const truth = new Uint8Array(ni * ni);
for (let j = 0; j < ni; j++) {
  for (let i = 0; i < ni; i++) {
    const inside = (i - 48) ** 2 + (j - 44) ** 2 <= 144;
    truth[i + ni * j] = inside ? 1 : 0;
    slice[i + ni * j] = (inside ? 40 : -100) + 8 * Math.sin(i * 1.7 + j * 0.9);
  }
}
const recist: Recist = {
  long: [
    [36.5, 44],
    [59.5, 44],
  ],
  short: [
    [48, 32.5],
    [48, 55.5],
  ],
};
const roi = extractRoi(slice, [ni, ni], recist, { sizePx: 96, window: [-160, 240] });
const dice = (m: Uint8Array) => computeOverlap(computeConfusion(roiMaskToSlice(m, roi.geometry), truth)).dice;

test('each Table 1 method on a synthetic disk: GrabCut-R best, RECIST dilation under-segments', async () => {
  const scores: Record<string, number> = {};
  for (const method of MASK_METHODS) {
    const [r] = await masksForRois([roi], { method });
    assert.equal(r.mask.length, 96 * 96);
    assert.ok(
      r.mask.every((v) => v === 0 || v === 1),
      method,
    );
    scores[method] = dice(r.mask);
  }
  // RECIST axes dilated to 20 % of the bbox: Dice ~ 2*0.2/(0.2 + pi/4) ~ 0.41
  assert.ok(scores.recist > 0.3 && scores.recist < 0.55, `recist ${scores.recist}`);
  assert.ok(scores['grabcut-r'] > 0.9, `grabcut-r ${scores['grabcut-r']}`);
  assert.ok(scores['grabcut-i'] > 0.8, `grabcut-i ${scores['grabcut-i']}`);
  assert.ok(scores.dcrf > 0.8, `dcrf ${scores.dcrf}`);
  // best up to 0.01: the slab clamp (clampSlab) trims the rim pixels just past the axes' ends (0.995 here)
  for (const m of MASK_METHODS.filter((x) => x !== 'ellipse')) {
    assert.ok(scores['grabcut-r'] >= scores[m] - 0.01, JSON.stringify(scores));
  }
  // the disk is its own RECIST ellipse: the image-free reference is near perfect here
  assert.ok(scores.ellipse > 0.95, `ellipse ${scores.ellipse}`);
});

test('GrabCut-R falls back to trimap FG + PFG when GrabCut returns (almost) nothing', async () => {
  const empty: GrabCutFn = async (b) => ({
    masks: new Uint8Array(b.n * b.h * b.w),
    status: new Int8Array(b.n),
  });
  const [r] = await masksForRois([roi], { method: 'grabcut-r' }, empty);
  assert.equal(r.fallback, true);
  const plan = planLesionMask(roi, { method: 'grabcut-r' });
  assert.equal(plan.kind, 'grabcut');
  if (plan.kind === 'grabcut') assert.deepEqual(r.mask, trimapForeground(plan.trimap));
  // a native failure status also triggers it; a good answer does not
  const echo: GrabCutFn = async (b) => ({
    masks: trimapForeground(b.trimaps),
    status: new Int8Array(b.n).fill(3),
  });
  assert.equal((await masksForRois([roi], {}, echo))[0].fallback, true);
  const ok: GrabCutFn = async (b) => ({ masks: trimapForeground(b.trimaps), status: new Int8Array(b.n) });
  assert.equal((await masksForRois([roi], {}, ok))[0].fallback, false);
});

test('GrabCut batches: results come back per ROI in order', async () => {
  const calls: number[] = [];
  const counting: GrabCutFn = async (b) => {
    calls.push(b.n);
    const masks = new Uint8Array(b.n * b.h * b.w);
    for (let k = 0; k < b.n; k++) masks.fill(1, k * b.h * b.w, k * b.h * b.w + 10 * (k + 1)); // k-specific
    return { masks, status: new Int8Array(b.n) };
  };
  const rs = await masksForRois([roi, roi, roi], { method: 'grabcut-box', batchSize: 2 }, counting);
  assert.deepEqual(calls, [2, 1]);
  assert.deepEqual(
    rs.map((r) => r.mask.reduce((x, y) => x + y, 0)),
    [10, 20, 10],
  );
});

test('dense CRF: uncertain pixels follow the image, the Gaussian filter keeps a constant', () => {
  const n = 32;
  const image = new Uint8Array(n * n);
  const trimap = new Uint8Array(n * n).fill(TRIMAP.BG);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const r2 = (u - 16) ** 2 + (v - 16) ** 2;
      image[u + n * v] = r2 <= 36 ? 200 : 60;
      if (r2 <= 4) trimap[u + n * v] = TRIMAP.FG;
      else if (Math.max(Math.abs(u - 16), Math.abs(v - 16)) <= 10) trimap[u + n * v] = TRIMAP.PFG;
    }
  }
  const m = denseCrfMask(image, trimap, n, { thetaAlpha: 5 });
  const disk = Uint8Array.from(image, (g) => (g === 200 ? 1 : 0));
  const d = computeOverlap(computeConfusion(m, disk)).dice;
  assert.ok(d > 0.9, `dcrf dice ${d}`);
  const g = gaussianFilter(new Float32Array(n * n).fill(0.7), n, 2);
  assert.ok(g.every((x) => Math.abs(x - 0.7) < 1e-6));
});
