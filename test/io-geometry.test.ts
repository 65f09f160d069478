import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crop, pad, maskBoundingBox } from '../src/geometry/crop.js';
import { resample } from '../src/geometry/resample.js';
import { window } from '../src/geometry/window.js';
import { applyInverse } from '../src/geometry/case-geometry.js';
import { voxelToWorld } from '../src/geometry/affine.js';
import { readMask, readNifti, writeNifti } from '../src/io/nifti.js';
import type { NiftiMeta } from '../src/io/nifti-header.js';
import { isRecist3dError } from '../src/errors.js';
import { createRng } from '../src/util/random.js';
import type { Mask, Vec3, Volume } from '../src/types/volume.js';
import { sharedData, skipReason } from './helpers/shared-data.js';

function blobMask(size: Vec3, seed: number): Mask {
  const rng = createRng(seed);
  const data = new Uint8Array(size[0] * size[1] * size[2]);
  const c = size.map((s) => s / 2);
  for (let k = 0; k < size[2]; k++)
    for (let j = 0; j < size[1]; j++)
      for (let i = 0; i < size[0]; i++) {
        const r = ((i - c[0]) / 6) ** 2 + ((j - c[1]) / 4) ** 2 + ((k - c[2]) / 2) ** 2;
        if (r < 1 + 0.3 * rng.normal()) data[i + size[0] * (j + size[1] * k)] = 1;
      }
  return {
    size,
    spacingMm: [0.7, 0.8, 2.5],
    origin: [10, -20, 30],
    direction: [0, 1, 0, -1, 0, 0, 0, 0, 1],
    data,
    meta: { sourceFile: 'x.nii' },
  };
}

test('crop then uncrop restores the mask exactly and moves the origin to the box corner', () => {
  const m = blobMask([30, 24, 10], 1);
  const box = maskBoundingBox(m, [1, 1, 0]);
  const { volume, geometry } = crop(m, box);
  assert.deepEqual(volume.size, box.sizeIJK);
  assert.deepEqual(volume.origin, voxelToWorld(m, box.beginIJK));
  const back = applyInverse(volume, geometry);
  assert.deepEqual(back.size, m.size);
  assert.deepEqual(back.origin, m.origin);
  assert.deepEqual(back.data, m.data);
  assert.equal(back.meta.sourceFile, 'x.nii');
  assert.throws(
    () => crop(m, { beginIJK: [25, 0, 0], sizeIJK: [10, 1, 1] }),
    (e) => isRecist3dError(e, 'E_GEOMETRY'),
  );
});

test('pad uses the stated fill and is undone exactly', () => {
  const img: Volume<Int16Array> = {
    ...blobMask([6, 5, 4], 2),
    data: Int16Array.from({ length: 120 }, (_, i) => i),
  };
  const { volume, geometry } = pad(img, { fill: -1024, before: [1, 2, 0], toSize: [10, 9, 5] });
  assert.deepEqual(volume.size, [10, 9, 5]);
  // before = [1 + 1, 2 + 1, 0 + 0] after centring the extra voxels
  assert.equal(volume.data[0], -1024);
  assert.equal(volume.data[2 + 10 * (3 + 9 * 0)], 0, 'first input voxel');
  assert.deepEqual(volume.origin, voxelToWorld(img, [-2, -3, 0]));
  const mask: Mask = {
    ...volume,
    data: Uint8Array.from(volume.data, (v) => (v >= 0 && v % 3 === 0 ? 1 : 0)),
  };
  const back = applyInverse(mask, geometry);
  assert.deepEqual(
    Array.from(back.data),
    Array.from(img.data, (v) => (v % 3 === 0 ? 1 : 0)),
  );
});

test('crop, integer upsampling (x2, x2, x4) and back restores the mask exactly', () => {
  const m = blobMask([30, 24, 10], 3);
  const c = crop(m, maskBoundingBox(m, [2, 2, 1]));
  const r = resample(c.volume, { size: [c.volume.size[0] * 2, c.volume.size[1] * 2, c.volume.size[2] * 4] });
  assert.deepEqual(
    r.geometry.steps.map((s) => s.kind),
    ['crop', 'resample'],
  );
  assert.ok(Math.abs(r.volume.spacingMm[2] - 2.5 / 4) < 1e-12);
  // nearest upsampling: every fine voxel copies its coarse parent
  const [fi, fj] = r.volume.size;
  const [ci, cj] = c.volume.size;
  for (const [i, j, k] of [
    [5, 7, 3],
    [11, 2, 9],
  ])
    assert.equal(
      r.volume.data[i + fi * (j + fj * k)],
      c.volume.data[(i >> 1) + ci * ((j >> 1) + cj * (k >> 2))],
    );
  // the centre of fine voxel 0 lies a quarter voxel inside the coarse voxel 0
  const w0 = voxelToWorld(r.volume, [0, 0, 0]);
  const expect = voxelToWorld(c.volume, [-0.25, -0.25, -0.375]);
  w0.forEach((x, a) => assert.ok(Math.abs(x - expect[a]) < 1e-9));
  const back = applyInverse(r.volume, r.geometry);
  assert.deepEqual(back.data, m.data);
  assert.deepEqual(back.size, m.size);
});

test('resample by spacing: linear on images, downsampling then inverse keeps the mask roughly', () => {
  const img: Volume<Float32Array> = {
    ...blobMask([8, 8, 4], 4),
    spacingMm: [1, 1, 1],
    data: Float32Array.from({ length: 256 }, (_, x) => x % 8), // a ramp along i
  };
  const r = resample(img, { spacingMm: [0.5, 1, 1] });
  assert.deepEqual(r.volume.size, [16, 8, 4]);
  // output voxel 3 is centred at input i = 1.25 -> 1.25 on the ramp
  assert.ok(Math.abs(r.volume.data[3] - 1.25) < 1e-6);
  assert.ok(Math.abs(r.volume.data[0] - 0) < 1e-6, 'edge clamps');

  const m = blobMask([40, 32, 12], 5);
  const down = resample(m, { size: [20, 16, 6] });
  const back = applyInverse(down.volume, down.geometry);
  let agree = 0;
  for (let x = 0; x < m.data.length; x++) agree += back.data[x] === m.data[x] ? 1 : 0;
  assert.ok(agree / m.data.length > 0.95, `agreement ${agree / m.data.length}`);
  assert.throws(
    () => resample(m, {}),
    (e) => isRecist3dError(e, 'E_GEOMETRY'),
  );
  assert.throws(
    () => resample(m, { spacingMm: [1, 0, 1] }),
    (e) => isRecist3dError(e, 'E_SPACING_INVALID'),
  );
});

test('window maps HU to [0,1] float or 0..255 and keeps the geometry', () => {
  const img: Volume<Int16Array> = {
    ...blobMask([4, 1, 1], 6),
    data: Int16Array.from([-2000, -160, 40, 500]),
  };
  const f = window(img, { minHu: -160, maxHu: 240 });
  assert.deepEqual(Array.from(f.volume.data), [0, 0, 0.5, 1]);
  const u = window(img, { minHu: -160, maxHu: 240, output: 'uint8' });
  assert.deepEqual(Array.from(u.volume.data), [0, 0, 128, 255]);
  assert.equal(f.geometry.steps.length, 0);
  assert.throws(
    () => window(img, { minHu: 5, maxHu: 5 }),
    (e) => isRecist3dError(e, 'E_GEOMETRY'),
  );
});

test('a mask mapped back from a crop of a real volume is written with the identical affine', async (t) => {
  const f = sharedData('lidc', 'mask', 'LIDC-IDRI-0001_R_1.nii.gz');
  if (!f) return t.skip(skipReason('lidc', 'mask'));
  const m = await readMask(f);
  assert.ok(m.data instanceof Uint8Array, 'int16 LIDC mask read as uint8');
  const c = crop(m, maskBoundingBox(m, [3, 3, 1]));
  const up = resample(c.volume, { size: [c.volume.size[0] * 3, c.volume.size[1] * 3, c.volume.size[2]] });
  const back = applyInverse(up.volume, up.geometry);
  assert.deepEqual(back.data, m.data);
  const dir = await mkdtemp(join(tmpdir(), 'recist3d-geom-'));
  try {
    const p = join(dir, 'back.nii.gz');
    await writeNifti(p, back);
    const again = await readNifti(p);
    assert.deepEqual((again.meta.nifti as NiftiMeta).srow, (m.meta.nifti as NiftiMeta).srow);
    assert.deepEqual((again.meta.nifti as NiftiMeta).quatern, (m.meta.nifti as NiftiMeta).quatern);
    assert.deepEqual((again.meta.nifti as NiftiMeta).qoffset, (m.meta.nifti as NiftiMeta).qoffset);
    assert.deepEqual(again.data, m.data);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a stale meta.caseGeometry and a fill that does not fit the type are refused', () => {
  const m = blobMask([30, 24, 10], 7);
  const c = crop(m, { beginIJK: [2, 2, 2], sizeIJK: [10, 10, 5] });
  const wrong: Mask = { ...c.volume, size: [5, 10, 10] };
  assert.throws(
    () => crop(wrong, { beginIJK: [0, 0, 0], sizeIJK: [2, 2, 2] }),
    (e) => isRecist3dError(e, 'E_GEOMETRY'),
  );
  const fresh = crop(wrong, { beginIJK: [0, 0, 0], sizeIJK: [2, 2, 2], chain: false });
  assert.equal(fresh.geometry.steps.length, 1);
  assert.throws(
    () => pad(m, { fill: -1024, before: [1, 1, 1] }),
    (e) => isRecist3dError(e, 'E_GEOMETRY'),
  );
});
