import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flipPlanes, inputChannels, inputLayout, stackInput, type Flip } from './infer.js';
import { type LesionStack } from '../types/stack.js';

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

test('inputLayout decodes every channel count that inputChannels makes', () => {
  for (const context of [0, 1, 2, 3])
    for (const prior of [false, true])
      assert.deepEqual(inputLayout(inputChannels({ context, prior })), { context, prior });
  assert.equal(inputChannels({ context: 1, prior: false }), 3);
});

test('stackInput stacks slices k-context..k+context, repeating the stack edge beyond it', () => {
  const n = 2;
  // slices 4..6, every pixel of slice k holds k * 10 (as an 8-bit image)
  const stack = {
    keyRoi: { geometry: { sizePx: n } },
    kMin: 4,
    kMax: 6,
    images: [4, 5, 6].map((k) => new Uint8Array(n * n).fill(k * 10)),
  } as unknown as LesionStack;
  const planes = (k: number) => {
    const out = new Float32Array(3 * n * n);
    stackInput(stack, k, 3, out);
    return [0, 1, 2].map((c) => Math.round(out[c * n * n] * 255));
  };
  assert.deepEqual(planes(5), [40, 50, 60]);
  assert.deepEqual(planes(4), [40, 40, 50], 'below the stack the edge slice repeats');
  assert.deepEqual(planes(6), [50, 60, 60]);
  const outside = new Float32Array(3 * n * n);
  stackInput(stack, 9, 3, outside);
  assert.ok(
    outside.every((v) => v === 0),
    'a slice outside the stack stays 0',
  );
});
