import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recistToRoi } from '../geometry/roi.js';
import { roiBoxOnSlice, sliceBoxSize } from '../geometry/roi-project.js';
import { recistMismatch } from '../recist/qc.js';
import { rasterizeEllipse } from '../trimap/raster.js';
import { withPhantomStack } from '../../test/helpers/phantom-stack.js';
import { assembleLesion3d, SEGMENT3D_DEFAULTS, stackSlices } from './5-segment-3d.js';
import { ellipsoidLesion3d } from './ellipsoid.js';
import { excludeByHu, huRange } from './hu-exclusion.js';
import { auc, recistContrast, recistIsodense } from './lesion-contrast.js';
import { clearBeyondAxes, lesionPrior, RECIST_PRIOR_DEFAULTS, thresholdWithPrior } from './recist-prior.js';

test('thresholdWithPrior lowers the threshold inside the ellipse and raises it outside', () => {
  const prob = Float32Array.from([0.3, 0.3, 0.6, 0.95]);
  const ellipse = Uint8Array.from([1, 0, 0, 0]);
  const o = { ...RECIST_PRIOR_DEFAULTS, priorThreshold: 0.2, priorOutThreshold: 0.9 };
  assert.deepEqual([...thresholdWithPrior(prob, ellipse, 0.5, o)], [1, 0, 0, 1]);
  // each side off on its own; no ellipse = plain threshold
  assert.deepEqual([...thresholdWithPrior(prob, ellipse, 0.5, { ...o, priorOutThreshold: 0 })], [1, 0, 1, 1]);
  assert.deepEqual([...thresholdWithPrior(prob, ellipse, 0.5, { ...o, priorThreshold: 0 })], [0, 0, 0, 1]);
  assert.deepEqual([...thresholdWithPrior(prob, undefined, 0.5, o)], [0, 0, 1, 1]);
});

test('auc is the Mann-Whitney probability, ties counting half', () => {
  assert.equal(auc([2, 3], [1]), 1);
  assert.equal(auc([1], [2, 3]), 0);
  assert.equal(auc([1, 1], [1]), 0.5);
  assert.equal(auc([1, 3], [2]), 0.5);
  assert.ok(Number.isNaN(auc([], [1])));
});

test('recistMismatch flags an axis off by more than max(30 %, 3 mm), and an unmeasurable mask', () => {
  const given = { longMm: 40, shortMm: 20 };
  assert.equal(recistMismatch(given, { longMm: 48, shortMm: 22 }), false);
  assert.equal(recistMismatch(given, { longMm: 53, shortMm: 20 }), true);
  assert.equal(recistMismatch(given, { longMm: 40, shortMm: 13 }), true);
  assert.equal(
    recistMismatch({ longMm: 5, shortMm: 4 }, { longMm: 7.5, shortMm: 6.5 }),
    false,
    'within 3 mm',
  );
  assert.equal(recistMismatch(given, { longMm: Number.NaN, shortMm: Number.NaN }), true);
});

test('on a phantom: the key slab clears what lies beyond the RECIST axes, the prior keeps a blind map near the ellipsoid', async () => {
  await withPhantomStack(5, (s) => {
    const box = roiBoxOnSlice(s.keyRoi.geometry);
    const [w, h] = sliceBoxSize(box);
    const mask = new Uint8Array(w * h).fill(1);
    clearBeyondAxes(mask, s, box, 0);
    const [a, b] = s.record.recist.long;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    for (let p = 0; p < mask.length; p++) {
      const i = box[0] + (p % w);
      const j = box[1] + Math.floor(p / w);
      const proj = ((i - a[0]) * (b[0] - a[0]) + (j - a[1]) * (b[1] - a[1])) / len;
      if (proj < -1 || proj > len + 1) assert.equal(mask[p], 0, `pixel ${i},${j} beyond the long axis`);
    }
    assert.ok(mask.reduce((x, y) => x + y, 0) > 0, 'pixels between the ends stay');

    // a "CNN" that marks the whole ROI at 0.6 on every slice: without the prior the mask is the ROI; with the
    // outside threshold always on it is the (nested) ellipsoid, which the slab and the ellipse bound
    const n = s.keyRoi.geometry.sizePx;
    const maps = stackSlices(s).map(() => new Float32Array(n * n).fill(0.6));
    const off = {
      priorThreshold: 0,
      priorOutThreshold: 0,
      keySlab: -1,
      huExclusion: null,
      ringExclusion: null,
    };
    const blind = assembleLesion3d(s, maps, off);
    const prior = assembleLesion3d(s, maps, { ...off, priorOutThreshold: 0.9, priorIsodenseAbove: 0 });
    const ell = ellipsoidLesion3d(s);
    assert.ok(blind.voxels > 2 * ell.voxels, `blind ${blind.voxels} vs ellipsoid ${ell.voxels}`);
    assert.ok(
      prior.voxels <= 1.1 * ell.voxels && prior.voxels >= 0.8 * ell.voxels,
      `prior ${prior.voxels} vs ellipsoid ${ell.voxels}`,
    );
  });
});

test('lesionPrior keeps the outside threshold only for a lesion whose surroundings look like it', async () => {
  await withPhantomStack(5, (s) => {
    const c = recistContrast(s);
    assert.ok(c >= 0 && c <= 0.5, `contrast ${c}`);
    const iso = recistIsodense(s);
    assert.ok(iso >= 0 && iso <= 1, `isodense ${iso}`);
    const o = { ...SEGMENT3D_DEFAULTS };
    assert.equal(lesionPrior(s, { ...o, priorIsodenseAbove: 0 }).priorOutThreshold, o.priorOutThreshold);
    assert.equal(lesionPrior(s, { ...o, priorIsodenseAbove: iso }).priorOutThreshold, 0, 'at the share: off');
    if (iso > 0.01) {
      const below = lesionPrior(s, { ...o, priorIsodenseAbove: iso - 0.01 });
      assert.equal(below.priorOutThreshold, o.priorOutThreshold);
    }
  });
});

test('HU exclusion drops voxels brighter or darker than the lesion, except dark ones touching tissue', async () => {
  await withPhantomStack(5, (s) => {
    const x = { airHu: -400, brightHu: 250, margin: 200, airNearMm: 1 };
    const range = huRange(s, x);
    assert.ok(range && range[0] <= -400 && range[1] >= 250, `range ${range}`);
    const box: [number, number, number, number] = [0, 0, 4, 0];
    const hu = Float32Array.from([40, 2000, 40, -1000, -1000]);
    const mask = Uint8Array.from([1, 1, 1, 1, 1]);
    // spacing 1 mm: the first dark voxel touches tissue (kept), the second is 2 mm away (dropped)
    excludeByHu(mask, hu, box, range!, 1, [1, 1, 1]);
    assert.deepEqual([...mask], [1, 0, 1, 1, 0]);
    assert.equal(huRange(s, null), undefined, 'off');
  });
});

test('the ellipsoid reference ignores the prior and HU options (it sees no image)', async () => {
  await withPhantomStack(5, (s) => {
    const a = ellipsoidLesion3d(s);
    const b = ellipsoidLesion3d(s, { priorOutThreshold: 0.99, keySlab: 0.5 });
    assert.deepEqual(a.mask.data, b.mask.data);
    const n = s.keyRoi.geometry.sizePx;
    const key = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, s.record.recist), n);
    assert.ok(key.some((v) => v) && a.voxels > 0);
  });
});
