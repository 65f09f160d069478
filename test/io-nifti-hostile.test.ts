/**
 * The NIfTI reader against hostile files found by fuzzing (issue 13): every bad file is refused with a
 * Recist3dError naming the file and the header field, reads are bounded by what the header declares, and
 * nothing but a regular file is opened.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isRecist3dError, type ErrorCode } from '../src/errors.js';
import { readNifti, readNiftiHeader } from '../src/io/nifti.js';
import { NIFTI_OFFSETS as O, niftiBytes, plainVolume } from './helpers/nifti-bytes.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-nifti-hostile-'));
test.after(() => rm(dir, { recursive: true, force: true }));

const ramp = Int16Array.from({ length: 6 * 5 * 4 }, (_, i) => i * 3 - 50);
const vol = plainVolume(ramp, [6, 5, 4]);

async function file(name: string, bytes: Buffer): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, name.endsWith('.gz') ? gzipSync(bytes) : bytes);
  return p;
}

/** Asserts that `p` rejects with `code`, naming the file (and `field` when given). */
async function refuses(p: Promise<unknown>, code: ErrorCode, path: string, field?: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isRecist3dError(e, code), `expected ${code}, got ${String(e)}`);
    assert.equal(e.context.file, path);
    assert.ok(e.message.includes(path), e.message);
    if (field) assert.equal(e.context.field, field);
    return true;
  });
}

for (const [label, value] of [
  ['NaN', Number.NaN],
  ['10', 10],
  ['-352', -352],
  ['348 (inside the extension flag)', 348],
  ['352.5 (not whole)', 352.5],
] as const) {
  test(`vox_offset ${label} is refused, naming the file and field (.nii and .nii.gz, header-only too)`, async () => {
    for (const ext of ['.nii', '.nii.gz']) {
      const p = await file(
        `off-${label.split(' ')[0]}${ext}`,
        niftiBytes(vol, (v) => v.setFloat32(O.voxOffset, value, true)),
      );
      await refuses(readNifti(p), 'E_NIFTI_CORRUPT', p, 'vox_offset');
      await refuses(readNiftiHeader(p), 'E_NIFTI_CORRUPT', p, 'vox_offset');
    }
  });
}

test('vox_offset 360 (not a multiple of 16) reads the voxels from byte 360, as the standard says', async () => {
  for (const ext of ['.nii', '.nii.gz']) {
    const p = await file(
      `off360${ext}`,
      niftiBytes(vol, (v) => v.setFloat32(O.voxOffset, 360, true), 8),
    );
    const back = await readNifti(p);
    assert.deepEqual(Array.from(back.data), Array.from(ramp));
  }
});

test('a singular sform (two equal columns) is refused as E_SPACING_INVALID naming srow', async () => {
  const p = await file(
    'singular.nii',
    niftiBytes(vol, (v) => {
      // column j := column i (both 0.8 mm along x): the voxel axes no longer span 3D
      for (const row of [O.srowX, O.srowY, O.srowZ]) v.setFloat32(row + 4, v.getFloat32(row, true), true);
    }),
  );
  await refuses(readNifti(p), 'E_SPACING_INVALID', p, 'srow');
  await refuses(readNiftiHeader(p), 'E_SPACING_INVALID', p, 'srow');
});

test('non-finite voxels are E_NIFTI_VALUES naming the file, the count and the first voxel', async () => {
  const inf = plainVolume(new Float32Array(ramp.length).fill(Infinity), [6, 5, 4]);
  const pInf = await file('inf.nii.gz', niftiBytes(inf));
  await assert.rejects(readNifti(pInf), (e) => {
    assert.ok(isRecist3dError(e, 'E_NIFTI_VALUES'), String(e));
    assert.match(e.message, /120 of 120 voxels are NaN or infinite/);
    assert.equal(e.context.file, pInf);
    return true;
  });
  const block = Float32Array.from(ramp);
  for (let j = 1; j < 3; j++) for (let i = 2; i < 4; i++) block[i + 6 * (j + 5 * 3)] = Number.NaN;
  const pNaN = await file('nan.nii', niftiBytes(plainVolume(block, [6, 5, 4])));
  await assert.rejects(readNifti(pNaN), (e) => {
    assert.ok(isRecist3dError(e, 'E_NIFTI_VALUES'), String(e));
    assert.match(e.message, /4 of 120 voxels .* i,j,k = 2,1,3/);
    return true;
  });
  // an int16 image whose scl_slope overflows float32 on scaling is as bad
  const pSlope = await file(
    'slope.nii',
    niftiBytes(vol, (v) => v.setFloat32(O.sclSlope, 3e38, true)),
  );
  await refuses(readNifti(pSlope), 'E_NIFTI_VALUES', pSlope);
  // the header alone is fine: it has no voxels to judge
  assert.deepEqual((await readNiftiHeader(pNaN)).size, [6, 5, 4]);
});

test(
  '/dev/zero, a FIFO and a folder are refused before reading (E_FILE_UNREADABLE naming the path)',
  { timeout: 20000 },
  async () => {
    const fifo = join(dir, 'pipe.nii');
    execFileSync('mkfifo', [fifo]);
    for (const [p, kind] of [
      ['/dev/zero', /character device/],
      [fifo, /named pipe/],
      [dir, /folder/],
    ] as const) {
      for (const read of [readNifti, readNiftiHeader]) {
        await assert.rejects(read(p), (e) => {
          assert.ok(isRecist3dError(e, 'E_FILE_UNREADABLE'), String(e));
          assert.equal(e.context.file, p);
          assert.match(e.message, kind);
          return true;
        });
      }
    }
  },
);

test('a gzip bomb is inflated only up to the size its header declares', { timeout: 60000 }, async () => {
  // 6x5x4 int16 declared, then 1 GiB of zeros in 1,024 further gzip members (about 1 MB on disk)
  const member = gzipSync(Buffer.alloc(1 << 20), { level: 9 });
  const bomb = Buffer.concat([gzipSync(niftiBytes(vol)), ...Array.from({ length: 1024 }, () => member)]);
  const p = join(dir, 'bomb.nii.gz');
  await writeFile(p, bomb);
  const peakBefore = process.resourceUsage().maxRSS; // kB
  const back = await readNifti(p);
  assert.deepEqual(Array.from(back.data), Array.from(ramp));
  const grewMb = (process.resourceUsage().maxRSS - peakBefore) / 1024;
  assert.ok(grewMb < 200, `peak memory grew by ${grewMb.toFixed(0)} MB while reading a 240-byte volume`);
});

test('a header that declares more voxel bytes than the reader handles is refused before any allocation', async () => {
  const p = await file(
    'huge.nii.gz',
    niftiBytes(vol, (v) => {
      for (let k = 1; k <= 3; k++) v.setInt16(O.dim + 2 * k, 30000, true);
      v.setInt16(O.datatype, 64, true); // float64: 30000^3 x 8 bytes = 196 TiB
      v.setInt16(O.bitpix, 64, true);
    }),
  );
  await refuses(readNifti(p), 'E_NIFTI_UNSUPPORTED', p, 'dim');
  // the header alone is still readable (its grid is valid)
  assert.deepEqual((await readNiftiHeader(p)).size, [30000, 30000, 30000]);
});

test('truncated voxels are E_NIFTI_TRUNCATED for .nii and .nii.gz', async () => {
  const whole = niftiBytes(vol);
  const raw = await file('cut.nii', whole.subarray(0, whole.length - 7));
  await refuses(readNifti(raw), 'E_NIFTI_TRUNCATED', raw);
  const gz = join(dir, 'cut.nii.gz');
  const z = gzipSync(whole);
  await writeFile(gz, z.subarray(0, z.length - 30));
  await refuses(readNifti(gz), 'E_NIFTI_TRUNCATED', gz);
});

test('a small .nii.gz that declares a 1 GiB volume is E_NIFTI_TRUNCATED and peak memory stays small', async () => {
  const p = await file(
    'declares-1gib.nii.gz',
    niftiBytes(vol, (v) => {
      for (let k = 1; k <= 3; k++) v.setInt16(O.dim + 2 * k, 1024, true);
      v.setInt16(O.datatype, 2, true); // uint8: 1024^3 bytes declared, 240 present
      v.setInt16(O.bitpix, 8, true);
    }),
  );
  const peakBefore = process.resourceUsage().maxRSS;
  await refuses(readNifti(p), 'E_NIFTI_TRUNCATED', p);
  const grewMb = (process.resourceUsage().maxRSS - peakBefore) / 1024;
  assert.ok(grewMb < 100, `peak memory grew by ${grewMb.toFixed(0)} MB`);
});
