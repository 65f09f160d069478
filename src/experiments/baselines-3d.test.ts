import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baselineLesion3d } from './baselines-3d.js';
import { withPhantomStack } from '../../test/helpers/phantom-stack.js';

test('the RECIST ellipsoid baseline follows the Pythagorean rule, or a flatter body when zExtent is given', async () => {
  await withPhantomStack(7, async (s) => {
    const sz = s.image.spacingMm[2];
    const key = s.record.keySlice;
    const paper = await baselineLesion3d(s, 'ellipsoid');
    const flat = await baselineLesion3d(s, 'ellipsoid', { zExtent: 0.5 });
    // slices strictly within the half-depth carry an ellipse (the estimate vanishes at |dz| = half-depth)
    for (const [r, f] of [
      [paper, 1],
      [flat, 0.5],
    ] as const) {
      const reach = Math.ceil((f * s.longMm) / 2 / sz - 1e-9) - 1;
      assert.deepEqual(
        r.sliceRange,
        [Math.max(s.kMin, key - reach), Math.min(s.kMax, key + reach)],
        `zExtent ${f}`,
      );
    }
    assert.ok(flat.voxels < paper.voxels);
  });
});
