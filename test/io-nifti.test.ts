import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readNifti, readNiftiHeader, writeNifti } from '../src/io/nifti.js';
import type { NiftiMeta } from '../src/io/nifti-header.js';
import { isRecist3dError } from '../src/errors.js';
import { createRng } from '../src/util/random.js';
import type { Mat3, Vec3, Volume, VoxelData } from '../src/types/volume.js';
import { sharedData, skipReason } from './helpers/shared-data.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-nifti-'));
test.after(() => rm(dir, { recursive: true, force: true }));

function makeVolume<T extends VoxelData>(data: T, size: Vec3, direction?: Mat3): Volume<T> {
  return {
    size,
    spacingMm: [0.7, 0.8, 2.5],
    origin: [-10.5, 20.25, -100],
    direction: direction ?? [-1, 0, 0, 0, -1, 0, 0, 0, 1],
    data,
    meta: {},
  };
}

const size: Vec3 = [5, 4, 3];
const n = 60;
const cases: Array<[string, VoxelData]> = [
  ['int16', Int16Array.from({ length: n }, (_, i) => i * 37 - 1024)],
  ['uint8', Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256)],
  ['float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 1000.5)],
];

for (const [name, data] of cases) {
  for (const ext of ['.nii', '.nii.gz']) {
    test(`round trip ${name} ${ext}: data, type and grid survive`, async () => {
      const p = join(dir, `rt-${name}${ext}`);
      const vol = makeVolume(data, size);
      await writeNifti(p, vol);
      const raw = await readFile(p);
      assert.equal(raw[0] === 0x1f && raw[1] === 0x8b, ext === '.nii.gz', 'gzip by extension');
      const back = await readNifti(p);
      assert.deepEqual(back.size, size);
      assert.equal(back.data.constructor, data.constructor);
      assert.deepEqual(Array.from(back.data), Array.from(data));
      for (let k = 0; k < 3; k++) {
        assert.ok(Math.abs(back.spacingMm[k] - vol.spacingMm[k]) < 1e-5);
        assert.ok(Math.abs(back.origin[k] - vol.origin[k]) < 1e-4);
      }
      for (let k = 0; k < 9; k++) assert.ok(Math.abs(back.direction[k] - vol.direction[k]) < 1e-6);
      // i fastest: voxel (i=1, j=0, k=0) is element 1, (0,1,0) is element 5, (0,0,1) is element 20.
      assert.equal(back.data[1], data[1]);
      assert.equal(back.data[5 + 20], data[25]);
    });
  }
}

test('oblique improper direction survives (qform with qfac -1 and sform)', async () => {
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const dirM: Mat3 = [c, -s, 0, s, c, 0, 0, 0, -1];
  const vol = makeVolume(new Int16Array(n), size, dirM);
  const p = join(dir, 'oblique.nii');
  await writeNifti(p, vol);
  const back = await readNifti(p);
  for (let k = 0; k < 9; k++) assert.ok(Math.abs(back.direction[k] - dirM[k]) < 1e-6, `dir[${k}]`);
  const meta = back.meta.nifti as NiftiMeta;
  assert.equal(meta.qformCode, 1);
  assert.equal(meta.qfac, -1);
  assert.equal(meta.sformCode, 1);
});

test('qform and sform fields are reproduced exactly when a mask is written for a read volume', async (t) => {
  const src = sharedData('lidc', 'image');
  if (!src) return t.skip(skipReason('lidc', 'image'));
  const f = join(src, 'LIDC-IDRI-0001_R_1.nii.gz');
  const img = await readNifti(f);
  const mask: Volume = { ...img, data: new Uint8Array(img.data.length) };
  const out = join(dir, 'mask-for-lidc.nii.gz');
  await writeNifti(out, mask);
  const a = await readNifti(out);
  const m0 = img.meta.nifti as NiftiMeta;
  const m1 = a.meta.nifti as NiftiMeta;
  assert.deepEqual(m1.affine, m0.affine);
  assert.deepEqual(m1.srow, m0.srow);
  assert.deepEqual(m1.quatern, m0.quatern);
  assert.deepEqual(m1.qoffset, m0.qoffset);
  assert.equal(m1.qformCode, m0.qformCode);
  assert.equal(m1.sformCode, m0.sformCode);
  assert.equal(m1.datatype, 2);
});

test('reads real LIDC image and mask on the same grid, and CT backgrounds', async (t) => {
  const img = sharedData('lidc', 'image', 'LIDC-IDRI-0001_R_1.nii.gz');
  const msk = sharedData('lidc', 'mask', 'LIDC-IDRI-0001_R_1.nii.gz');
  if (!img || !msk) return t.skip(skipReason('lidc'));
  const v = await readNifti(img);
  const m = await readNifti(msk);
  assert.ok(v.data instanceof Int16Array);
  assert.deepEqual(v.size, [53, 64, 11]);
  assert.deepEqual(m.size, v.size);
  assert.deepEqual(m.spacingMm, v.spacingMm);
  assert.ok(Math.abs(v.spacingMm[2] - 2.5) < 1e-6);
  let minHu = Infinity;
  for (const x of v.data) minHu = Math.min(minHu, x);
  assert.ok(minHu < -500, 'lung CT contains air');
  let fg = 0;
  for (const x of m.data) fg += x ? 1 : 0;
  assert.ok(fg > 0, 'mask not empty');

  const bg = sharedData('ct-backgrounds');
  if (!bg) return;
  for (const f of (await readdir(bg)).filter((x) => x.endsWith('.nii.gz'))) {
    const vol = await readNifti(join(bg, f));
    assert.equal(vol.data.length, vol.size[0] * vol.size[1] * vol.size[2], f);
    assert.ok(
      vol.spacingMm.every((s) => s > 1 && s < 4),
      `${f} spacing ${vol.spacingMm}`,
    );
    // int32 abdomen CT is converted losslessly to int16
    if (f === 'abdomen_3mm.nii.gz') assert.ok(vol.data instanceof Int16Array);
  }
});

test('corrupt and truncated files give clear errors naming the file', async () => {
  const good = join(dir, 'good.nii');
  await writeNifti(good, makeVolume(new Int16Array(n), size));
  const raw = await readFile(good);

  const gzCorrupt = join(dir, 'corrupt.nii.gz');
  const gz = gzipSync(raw);
  for (let i = 20; i < gz.length - 8; i++) gz[i] ^= 0x5a;
  await writeFile(gzCorrupt, gz);
  await assert.rejects(readNifti(gzCorrupt), (e) => {
    assert.ok(isRecist3dError(e, 'E_NIFTI_CORRUPT') || isRecist3dError(e, 'E_NIFTI_TRUNCATED'), String(e));
    assert.match((e as Error).message, /corrupt\.nii\.gz/);
    return true;
  });

  const gzTrunc = join(dir, 'trunc.nii.gz');
  await writeFile(gzTrunc, gzipSync(raw).subarray(0, 40));
  await assert.rejects(
    readNifti(gzTrunc),
    (e) => isRecist3dError(e, 'E_NIFTI_TRUNCATED') && /trunc\.nii\.gz/.test(String(e)),
  );

  const shortData = join(dir, 'short.nii');
  await writeFile(shortData, raw.subarray(0, raw.length - 10));
  await assert.rejects(
    readNifti(shortData),
    (e) => isRecist3dError(e, 'E_NIFTI_TRUNCATED') && /short\.nii/.test(String(e)),
  );

  const notNifti = join(dir, 'text.nii');
  await writeFile(notNifti, Buffer.alloc(400, 65));
  await assert.rejects(readNifti(notNifti), (e) => isRecist3dError(e, 'E_NIFTI_CORRUPT'));

  await assert.rejects(readNifti(join(dir, 'missing.nii')), (e) => isRecist3dError(e, 'E_FILE_NOT_FOUND'));
});

test('NaN, zero or negative spacing -> E_SPACING_INVALID naming pixdim[k]', async () => {
  const good = join(dir, 'sp.nii');
  await writeNifti(good, makeVolume(new Int16Array(n), size));
  const raw = await readFile(good);
  for (const [k, val] of [
    [1, NaN],
    [2, 0],
    [3, -2],
  ] as const) {
    const bad = Buffer.from(raw);
    bad.writeFloatLE(val, 76 + 4 * k);
    const p = join(dir, `sp-${k}.nii`);
    await writeFile(p, bad);
    await assert.rejects(readNifti(p), (e) => {
      assert.ok(isRecist3dError(e, 'E_SPACING_INVALID'), String(e));
      assert.equal(e.context.field, `pixdim[${k}]`);
      assert.match(e.message, new RegExp(`sp-${k}\\.nii`));
      return true;
    });
  }
});

test('readNiftiHeader gives the grid without the voxels, for .nii and .nii.gz', async () => {
  for (const ext of ['.nii', '.nii.gz']) {
    const p = join(dir, `hdr${ext}`);
    const vol = makeVolume(new Int16Array(n), size);
    await writeNifti(p, vol);
    const h = await readNiftiHeader(p);
    const full = await readNifti(p);
    assert.equal('data' in h, false);
    assert.deepEqual(h.size, full.size);
    assert.deepEqual(h.spacingMm, full.spacingMm);
    assert.deepEqual(h.origin, full.origin);
    assert.deepEqual(h.meta.nifti, full.meta.nifti);
  }
  await assert.rejects(readNiftiHeader(join(dir, 'nope.nii.gz')), (e) =>
    isRecist3dError(e, 'E_FILE_NOT_FOUND'),
  );
  const bg = sharedData('ct-backgrounds', 'chest_1p5mm_a.nii.gz');
  if (bg) assert.deepEqual((await readNiftiHeader(bg)).size, [120, 126, 164]);
  // a file with header extensions (vox_offset 13168): header-only and full reads agree
  const org = sharedData('ct-backgrounds', 'abdomen_3mm_small_organs.nii.gz');
  if (org) {
    const [h, v] = await Promise.all([readNiftiHeader(org), readNifti(org)]);
    assert.deepEqual(h.size, v.size);
    assert.deepEqual(h.meta.nifti, v.meta.nifti);
    assert.ok(v.data instanceof Uint8Array);
  }
});

/** Byte-swaps a little-endian single-file NIfTI-1 (header fields and 2-byte voxels) into big-endian. */
function toBigEndian(le: Buffer, voxelBytes: number): Buffer {
  const be = Buffer.from(le);
  const swap = (o: number, w: number) => {
    for (let q = 0; q < w; q++) be[o + q] = le[o + w - 1 - q];
  };
  const four = [0, 32, 56, 60, 64, 108, 112, 116, 124, 128, 132, 136, 140, 144];
  for (let o = 76; o < 108; o += 4) four.push(o);
  for (let o = 256; o < 344; o += 4) four.push(o);
  four.forEach((o) => swap(o, 4));
  const two = [36, 68, 70, 72, 74, 120, 252, 254];
  for (let o = 40; o < 56; o += 2) two.push(o);
  two.forEach((o) => swap(o, 2));
  for (let o = 352; o < le.length; o += voxelBytes) swap(o, voxelBytes);
  return be;
}

test('big-endian files read the same as little-endian ones; .hdr/.img pairs and bad magic are refused', async () => {
  const data = Int16Array.from({ length: n }, (_, i) => i * 101 - 3000);
  const p = join(dir, 'le.nii');
  await writeNifti(p, makeVolume(data, size));
  const le = await readFile(p);
  const q = join(dir, 'be.nii');
  await writeFile(q, toBigEndian(le, 2));
  const a = await readNifti(p);
  const b = await readNifti(q);
  assert.deepEqual(Array.from(b.data), Array.from(data));
  assert.deepEqual(b.spacingMm, a.spacingMm);
  assert.deepEqual(b.origin, a.origin);
  assert.deepEqual(b.direction, a.direction);

  const pair = Buffer.from(le);
  pair.write('ni1\0', 344, 'latin1');
  await writeFile(join(dir, 'pair.nii'), pair);
  await assert.rejects(readNifti(join(dir, 'pair.nii')), (e) => isRecist3dError(e, 'E_NIFTI_UNSUPPORTED'));
  const nomagic = Buffer.from(le);
  nomagic.write('xyz\0', 344, 'latin1');
  await writeFile(join(dir, 'nomagic.nii'), nomagic);
  await assert.rejects(
    readNifti(join(dir, 'nomagic.nii')),
    (e) => isRecist3dError(e, 'E_NIFTI_CORRUPT') && e.context.field === 'magic',
  );
});

test('qform alone reproduces random proper and improper rotations (sform_code zeroed)', async () => {
  const rng = createRng(11);
  for (let trial = 0; trial < 12; trial++) {
    // random rotation from a random unit quaternion; every other trial mirrored (improper)
    const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
    const norm = Math.hypot(...q);
    const [a, b, c, d] = q.map((x) => x / norm);
    const R: Mat3 = [
      a * a + b * b - c * c - d * d,
      2 * (b * c - a * d),
      2 * (b * d + a * c),
      2 * (b * c + a * d),
      a * a + c * c - b * b - d * d,
      2 * (c * d - a * b),
      2 * (b * d - a * c),
      2 * (c * d + a * b),
      a * a + d * d - c * c - b * b,
    ];
    if (trial % 2) for (const r of [0, 1, 2]) R[r * 3 + 2] = -R[r * 3 + 2];
    const p = join(dir, `q${trial}.nii`);
    await writeNifti(p, makeVolume(new Uint8Array(n), size, R));
    const raw = await readFile(p);
    raw.writeInt16LE(0, 254); // sform_code = 0: the reader must use the qform
    await writeFile(p, raw);
    const back = await readNifti(p);
    assert.equal((back.meta.nifti as NiftiMeta).affineSource, 'qform');
    for (let k = 0; k < 9; k++)
      assert.ok(Math.abs(back.direction[k] - R[k]) < 1e-5, `trial ${trial} dir[${k}]`);
    for (let k = 0; k < 3; k++) assert.ok(Math.abs(back.spacingMm[k] - [0.7, 0.8, 2.5][k]) < 1e-5);
  }
});
