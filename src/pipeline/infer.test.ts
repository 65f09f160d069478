import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flipPlanes, type Flip } from './infer.js';

test('flipPlanes mirrors each plane along x, y or both, and every flip is its own inverse', () => {
  const n = 3;
  // two planes: values encode (plane, y, x)
  const src = Float32Array.from({ length: 2 * n * n }, (_, i) => i);
  const dst = new Float32Array(src.length);
  flipPlanes(src, dst, n, 2, 'x');
  assert.deepEqual([...dst.slice(0, 3)], [2, 1, 0]);
  assert.deepEqual([...dst.slice(9, 12)], [11, 10, 9], 'the second plane flips in place, not into the first');
  flipPlanes(src, dst, n, 2, 'y');
  assert.deepEqual([...dst.slice(0, 3)], [6, 7, 8]);
  flipPlanes(src, dst, n, 2, 'xy');
  assert.deepEqual([...dst.slice(0, 3)], [8, 7, 6]);
  for (const f of ['none', 'x', 'y', 'xy'] as Flip[]) {
    const once = new Float32Array(src.length);
    const twice = new Float32Array(src.length);
    flipPlanes(src, once, n, 2, f);
    flipPlanes(once, twice, n, 2, f);
    assert.deepEqual(twice, src, `${f} twice`);
  }
});
