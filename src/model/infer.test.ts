import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  flipPlanes,
  inputChannels,
  inputLayout,
  inputLayoutOf,
  netLayout,
  stackInput,
  type Flip,
  type InputLayout,
} from './infer.js';
import { Recist3dError } from '../errors.js';
import type { SegNet } from './binding.js';
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

test('inputLayout decodes every channel count that inputChannels makes without SR; SR layouts are explicit', () => {
  for (const context of [0, 1, 2, 3])
    for (const prior of [false, true])
      assert.deepEqual(inputLayout(inputChannels({ context, sr: false, prior })), {
        context,
        sr: false,
        prior,
      });
  assert.equal(inputChannels({ context: 1, sr: false, prior: false }), 3);
  // SR adds two channels: 3 channels are context 1 without SR or one slice with SR, which the count cannot tell
  assert.equal(inputChannels({ context: 0, sr: true, prior: false }), 3);
  assert.equal(inputChannels({ context: 1, sr: true, prior: true }), 6);
  const sr = { g1Sha256: 'a', g2Sha256: 'b', channels: ['denoised', 'enhanced'] as ['denoised', 'enhanced'] };
  assert.deepEqual(inputLayoutOf({ context: 0, sr, prior: 'none' }), { context: 0, sr: true, prior: false });
  assert.deepEqual(inputLayoutOf({ context: 2, sr: null, prior: 'recist-ellipse' }), {
    context: 2,
    sr: false,
    prior: true,
  });
  const net = { config: { inChannels: 3 } } as SegNet;
  assert.deepEqual(netLayout(net), { context: 1, sr: false, prior: false }, 'no layout: decoded, no SR');
  assert.deepEqual(netLayout(net, { context: 0, sr: true, prior: false }), {
    context: 0,
    sr: true,
    prior: false,
  });
  assert.throws(
    () => netLayout(net, { context: 0, sr: true, prior: true }),
    (e: unknown) =>
      e instanceof Recist3dError && e.code === 'E_CONFIG' && /4 channels .* takes 3/.test(e.message),
  );
});

const ONE: InputLayout = { context: 1, sr: false, prior: false };

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
    stackInput(stack, k, ONE, out);
    return [0, 1, 2].map((c) => Math.round(out[c * n * n] * 255));
  };
  assert.deepEqual(planes(5), [40, 50, 60]);
  assert.deepEqual(planes(4), [40, 40, 50], 'below the stack the edge slice repeats');
  assert.deepEqual(planes(6), [50, 60, 60]);
  const outside = new Float32Array(3 * n * n);
  stackInput(stack, 9, ONE, outside);
  assert.ok(
    outside.every((v) => v === 0),
    'a slice outside the stack stays 0',
  );
});

test('stackInput with SR: image slices, then the denoised and enhanced image of slice k, then the prior', () => {
  const n = 4;
  const recist = {
    long: [
      [0, 1.5],
      [3, 1.5],
    ],
    short: [
      [1.5, 0],
      [1.5, 3],
    ],
  };
  const stack = {
    record: { lesionId: 'L1', keySlice: 5, recist },
    image: { spacingMm: [1, 1, 1] },
    keyRoi: { geometry: { sliceSize: [n, n], cornerIJ: [-0.5, -0.5], sideVoxels: n, sizePx: n } },
    kMin: 4,
    kMax: 6,
    images: [4, 5, 6].map((k) => new Uint8Array(n * n).fill(k * 10)),
    srDenoised: [4, 5, 6].map((k) => new Uint8Array(n * n).fill(k * 10 + 1)),
    srEnhanced: [4, 5, 6].map((k) => new Uint8Array(n * n).fill(k * 10 + 2)),
  } as unknown as LesionStack;
  const layout: InputLayout = { context: 1, sr: true, prior: false };
  const out = new Float32Array(inputChannels(layout) * n * n);
  stackInput(stack, 6, layout, out);
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((c) => Math.round(out[c * n * n] * 255)),
    [50, 60, 60, 61, 62],
    'slices 5, 6, 6 (edge), then denoised(6) and enhanced(6)',
  );
  // the prior comes after the SR channels
  const withPrior: InputLayout = { context: 0, sr: true, prior: true };
  const p = new Float32Array(inputChannels(withPrior) * n * n).fill(-1);
  stackInput(stack, 5, withPrior, p);
  assert.deepEqual(
    [0, 1, 2].map((c) => Math.round(p[c * n * n] * 255)),
    [50, 51, 52],
  );
  assert.ok(
    p.slice(3 * n * n).every((v) => v === 0 || v === 1),
    'channel 3 is the 0/1 ellipse',
  );
  assert.ok(
    p.slice(3 * n * n).some((v) => v === 1),
    'the RECIST ellipse covers the ROI centre',
  );
  // a stack without SR images cannot feed an SR layout
  const { srDenoised: _d, srEnhanced: _e, ...plain } = stack;
  assert.throws(
    () => stackInput(plain as LesionStack, 5, layout, out),
    (e: unknown) =>
      e instanceof Recist3dError && e.code === 'E_PIPELINE' && /L1 has no denoised/.test(e.message),
  );
});
