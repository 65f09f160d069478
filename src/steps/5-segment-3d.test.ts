import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recistToRoi } from '../geometry/roi.js';
import { rasterizeEllipse } from '../trimap/raster.js';
import { assembleLesion3d, stackSlices } from './5-segment-3d.js';
import { IMAGE_FREE } from './ellipsoid.js';
import { withPhantomStack } from '../../test/helpers/phantom-stack.js';

test('keyAxisCoverage lowers the key-slice threshold until the mask covers that share of the RECIST axes', async () => {
  await withPhantomStack(5, (s) => {
    const n = s.keyRoi.geometry.sizePx;
    const roiRecist = recistToRoi(s.keyRoi.geometry, s.record.recist);
    // key slice: 0.7 in the inner 70 % of the RECIST ellipse, 0.3 out to the axes' ends; nothing elsewhere
    const inner = rasterizeEllipse(roiRecist, n, 0.7);
    const outer = rasterizeEllipse(roiRecist, n, 1.05);
    const maps = stackSlices(s).map((k) => {
      const m = new Float32Array(n * n);
      if (k !== s.record.keySlice) return m;
      for (let p = 0; p < m.length; p++) m[p] = inner[p] ? 0.7 : outer[p] ? 0.3 : 0;
      return m;
    });
    // the coverage rule alone (the RECIST prior would take the whole ellipse at 0.2 whatever the coverage)
    const off = { ...IMAGE_FREE, clampBeyondEstimate: 1 };
    const half = assembleLesion3d(s, maps, { ...off, keyAxisCoverage: 0.5 });
    const most = assembleLesion3d(s, maps, { ...off, keyAxisCoverage: 0.9 });
    assert.equal(half.flags.keyThresholdLowered, false, 'the inner 70 % already covers half of the axes');
    assert.equal(most.flags.keyThresholdLowered, true);
    assert.ok(most.voxels > 1.5 * half.voxels, `${most.voxels} voxels at 0.9 vs ${half.voxels} at 0.5`);
    // never below minKeyThreshold: with it at 0.35 the 0.3 ring stays out (only the bilinear edge between
    // 0.7 and 0.3 comes in)
    const floored = assembleLesion3d(s, maps, { ...off, keyAxisCoverage: 0.9, minKeyThreshold: 0.35 });
    assert.ok(floored.voxels >= half.voxels && floored.voxels < most.voxels, `${floored.voxels} voxels`);
  });
});

test('zExtent clears the slices beyond that fraction of the Pythagorean extent (plus one slice)', async () => {
  await withPhantomStack(7, (s) => {
    const n = s.keyRoi.geometry.sizePx;
    const disk = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, s.record.recist), n, 0.6);
    // the CNN "sees" the lesion on every slice of the stack
    const maps = stackSlices(s).map(() => Float32Array.from(disk, (v) => (v ? 0.9 : 0)));
    const sz = s.image.spacingMm[2];
    const key = s.record.keySlice;
    for (const zExtent of [1, 0.5]) {
      // the clamp alone (the RECIST prior's outside threshold would also clear slices past the estimate)
      const r = assembleLesion3d(s, maps, { ...IMAGE_FREE, zExtent, clampBeyondEstimate: 1 });
      const halfMm = (zExtent * s.longMm) / 2;
      // the last slice strictly within halfMm is ceil(halfMm / sz) - 1 away; the clamp's margin adds one
      const reach = Math.ceil(halfMm / sz - 1e-9);
      assert.deepEqual(
        r.sliceRange,
        [Math.max(s.kMin, key - reach), Math.min(s.kMax, key + reach)],
        `zExtent ${zExtent}`,
      );
    }
  });
});

test('nestMm keeps each slice inside the previous one (grown by nestMm) going out from the key slice', async () => {
  await withPhantomStack(7, (s) => {
    const n = s.keyRoi.geometry.sizePx;
    const disk = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, s.record.recist), n, 0.6);
    // off the key slice the "CNN" also marks a band to the right of the disk (a leak along a neighbour)
    const maps = stackSlices(s).map((k) =>
      Float32Array.from(disk, (v, p) => (v || (k !== s.record.keySlice && p % n > n * 0.6) ? 0.9 : 0)),
    );
    const opts = { zExtent: 1, keyAxisCoverage: 0.5 };
    const loose = assembleLesion3d(s, maps, { ...opts, nestMm: -1 });
    const nested = assembleLesion3d(s, maps, { ...opts, nestMm: 0 });
    assert.ok(nested.voxels < loose.voxels, `${nested.voxels} nested vs ${loose.voxels} voxels`);
    const [w, h, d] = nested.mask.size;
    const keyIdx = s.record.keySlice - nested.mask.start[2];
    for (let z = 0; z < d; z++) {
      if (z === keyIdx) continue;
      const inner = z < keyIdx ? z + 1 : z - 1;
      for (let p = 0; p < w * h; p++) {
        if (nested.mask.data[z * w * h + p])
          assert.equal(nested.mask.data[inner * w * h + p], 1, `slice ${z}`);
      }
    }
  });
});

test('endConfidence ends the lesion at the first slice the CNN is much less sure of than the key slice', async () => {
  await withPhantomStack(7, (s) => {
    const n = s.keyRoi.geometry.sizePx;
    const disk = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, s.record.recist), n, 0.6);
    const key = s.record.keySlice;
    // 0.95 on the key slice, 0.9 one slice away, 0.6 further out (where a leak would be)
    const p = (k: number) => (k === key ? 0.95 : Math.abs(k - key) === 1 ? 0.9 : 0.6);
    const maps = stackSlices(s).map((k) => Float32Array.from(disk, (v) => (v ? p(k) : 0)));
    const opts = { zExtent: 1, keyAxisCoverage: 0.5 };
    const off = assembleLesion3d(s, maps, { ...opts, endConfidence: 0 });
    const on = assembleLesion3d(s, maps, { ...opts, endConfidence: 0.9 });
    assert.ok(off.sliceRange[1] - off.sliceRange[0] > 2, `without the rule ${off.sliceRange.join('..')}`);
    assert.deepEqual(on.sliceRange, [key - 1, key + 1]);
    assert.equal(on.flags.endedByConfidence, true);
    assert.equal(off.flags.endedByConfidence, false);
    // 0.6 / 0.95 = 0.63: a ratio below that keeps every slice
    assert.deepEqual(assembleLesion3d(s, maps, { ...opts, endConfidence: 0.6 }).sliceRange, off.sliceRange);
    // a key threshold lowered to cover the axes takes in a 0.2 ring; the key slice's confidence counts only
    // its pixels at or above the base threshold, so the ring does not make the far slices look sure
    const ring = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, s.record.recist), n, 1.1);
    const ringed = maps.map((m, z) =>
      stackSlices(s)[z] === key ? Float32Array.from(m, (v, q) => (v || !ring[q] ? v : 0.2)) : m,
    );
    const covered = assembleLesion3d(s, ringed, { ...opts, keyAxisCoverage: 0.9, endConfidence: 0.9 });
    assert.equal(covered.flags.keyThresholdLowered, true);
    assert.deepEqual(covered.sliceRange, [key - 1, key + 1]);
  });
});
