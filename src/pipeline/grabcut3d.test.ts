import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeCohort } from '../synth/write.js';
import { baselineLesion3d } from './grabcut3d.js';
import { buildStacks } from './stack.js';

test('the RECIST ellipsoid baseline follows the Pythagorean rule, or a flatter body when zExtent is given', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-gc3d-'));
  try {
    const cohort = await writeCohort(dir, { lesions: 1, seed: 7, followUpFraction: 0 });
    const [res] = await buildStacks(cohort.records);
    assert.ok(res.ok);
    const s = res.stack;
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
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
