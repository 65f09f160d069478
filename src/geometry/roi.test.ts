import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRecist3dError } from '../errors.js';
import type { Recist } from '../types/recist.js';
import {
  extractRoi,
  roiGeometry,
  roiMaskToSlice,
  roiToSlice,
  sliceMaskToRoi,
  sliceToRoi,
  type RoiGeometry,
} from './roi.js';

const recist: Recist = {
  long: [
    [10, 20],
    [30, 20],
  ],
  short: [
    [20, 15],
    [20, 25],
  ],
};

/** A lesion at the left border of the slice: its 40-pixel ROI reaches 10 pixels beyond x = 0. */
const edge: Recist = {
  long: [
    [0, 20],
    [20, 20],
  ],
  short: [
    [10, 15],
    [10, 25],
  ],
};

test('geometry: square ROI twice the larger RECIST bbox side, centred on the bbox', () => {
  // bbox x 10..30 (w 20), y 15..25 (h 10) -> side 2*20 = 40, centre (20, 20) -> corner (0, 0)
  const g = roiGeometry(recist, [64, 64], { sizePx: 128 });
  assert.deepEqual(g, { sliceSize: [64, 64], cornerIJ: [0, 0], sideVoxels: 40, sizePx: 128 });
  // ROI pixel 0 centre: 0 + 0.5 * 40/128 = 0.15625
  assert.deepEqual(roiToSlice(g, [0, 0]), [0.15625, 0.15625]);
  const p = sliceToRoi(g, [17.3, 4.2]);
  const back = roiToSlice(g, p);
  assert.ok(Math.abs(back[0] - 17.3) < 1e-12 && Math.abs(back[1] - 4.2) < 1e-12);
  // tiny RECIST: the ROI side is at least minSideVoxels
  const tiny: Recist = {
    long: [
      [5, 5],
      [6, 5],
    ],
    short: [
      [5.5, 4.8],
      [5.5, 5.2],
    ],
  };
  assert.equal(roiGeometry(tiny, [64, 64], { minSideVoxels: 8 }).sideVoxels, 8);
});

test('round trip slice -> ROI (nearest) -> slice (area majority) is exact when the ROI is finer', () => {
  const g = roiGeometry(recist, [64, 64], { sizePx: 128 }); // 0.3125 slice px per ROI px
  const mask = new Uint8Array(64 * 64);
  for (let j = 12; j < 29; j++)
    for (let i = 8; i < 33; i++) if ((i - 20) ** 2 / 144 + (j - 20) ** 2 / 49 < 1) mask[i + 64 * j] = 1;
  mask[3 + 64 * 37] = 1; // a lone pixel near the ROI edge
  const back = roiMaskToSlice(sliceMaskToRoi(mask, g), g);
  assert.deepEqual(back, mask);
});

test('round trip ROI -> slice -> ROI is exact when each ROI pixel is 2x2 slice pixels', () => {
  const g: RoiGeometry = { sliceSize: [40, 40], cornerIJ: [-0.5, 3.5], sideVoxels: 32, sizePx: 16 };
  const roiMask = new Uint8Array(256);
  for (let v = 0; v < 16; v++)
    for (let u = 0; u < 16; u++) roiMask[u + 16 * v] = (u * 7 + v * 3) % 5 < 2 ? 1 : 0;
  const slice = roiMaskToSlice(roiMask, g);
  assert.equal(
    slice.reduce((a, b) => a + b, 0),
    4 * roiMask.reduce((a, b) => a + b, 0),
  );
  assert.deepEqual(sliceMaskToRoi(slice, g), roiMask);
});

test('area majority for a partly covered pixel: 3 of 4 quarter cells on -> on, 1 of 4 -> off', () => {
  // one slice pixel (0,0) = 2x2 ROI pixels
  const g: RoiGeometry = { sliceSize: [1, 1], cornerIJ: [-0.5, -0.5], sideVoxels: 1, sizePx: 2 };
  assert.deepEqual([...roiMaskToSlice([1, 1, 1, 0], g)], [1]);
  assert.deepEqual([...roiMaskToSlice([1, 0, 0, 0], g)], [0]);
});

test('extractRoi: bilinear HU, -1024 padding outside the image, windowing to 0..255', () => {
  const ni = 64;
  const slice = new Float32Array(ni * ni);
  for (let j = 0; j < ni; j++) for (let i = 0; i < ni; i++) slice[i + ni * j] = i; // HU = i
  const r = extractRoi(slice, [ni, ni], recist, { sizePx: 32, window: [0, 255] });
  const g = r.geometry;
  // ROI pixel (10, 10) centre at x = 0 + 10.5 * 40/32 = 13.125 -> HU 13.125 (linear in i)
  assert.ok(Math.abs(r.hu[10 + 32 * 10] - 13.125) < 1e-4);
  assert.equal(r.image[10 + 32 * 10], 13);
  // ROI pixel (0, 0) centre at x = 0.625: between pixel 0 and 1, inside the image
  assert.ok(Math.abs(r.hu[0] - 0.625) < 1e-4);
  // shift the lesion to the border: left of x = -1 only padding
  const r2 = extractRoi(slice, [ni, ni], edge, { sizePx: 40, window: [-160, 240] });
  assert.equal(r2.hu[0], -1024); // centre x = -10 + 0.5 = -9.5
  assert.equal(r2.image[0], 0);
  // window: HU 40 in [-160, 240] -> 200/400 * 255 = 127.5 -> 128
  const flat = new Float32Array(ni * ni).fill(40);
  assert.equal(extractRoi(flat, [ni, ni], recist, { window: [-160, 240] }).image[500], 128);
  // the RECIST comes along in ROI coordinates
  assert.deepEqual(r.recist.long[0], sliceToRoi(g, [10, 20]));
});

test('extractRoi: category default window (lung -1000..400) and a RECIST off the slice', () => {
  const flat = new Float32Array(64 * 64).fill(-300);
  const r = extractRoi(flat, [64, 64], recist, { category: 'lung' });
  assert.deepEqual(r.window, [-1000, 400]);
  assert.equal(r.image[64 * 64 + 64], Math.round((255 * 700) / 1400));
  const off: Recist = {
    long: [
      [10, 20],
      [70, 20],
    ],
    short: [
      [40, 15],
      [40, 25],
    ],
  };
  assert.throws(
    () => extractRoi(flat, [64, 64], off),
    (e) => isRecist3dError(e, 'E_RECIST_OUTSIDE'),
  );
});

test('reflect padding mirrors the image about its border pixels', async () => {
  const { reflectIndex } = await import('./roi.js');
  assert.deepEqual(
    [-3, -2, -1, 0, 1, 2, 3, 4, 5].map((i) => reflectIndex(i, 3)),
    [2, 1, 0, 0, 1, 2, 2, 1, 0],
  );
  const ni = 64;
  const slice = new Float32Array(ni * ni);
  for (let j = 0; j < ni; j++) for (let i = 0; i < ni; i++) slice[i + ni * j] = i;
  const r = extractRoi(slice, [ni, ni], edge, { sizePx: 40, padMode: 'reflect', window: [0, 100] });
  // ROI pixel 0 centre at x = -9.5: between mirrored pixels -10 -> 9 and -9 -> 8: HU 8.5
  assert.ok(Math.abs(r.hu[0] - 8.5) < 1e-4, `${r.hu[0]}`);
});
