import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir, copyFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { masksToManifest } from '../src/io/manifest-from-masks.js';
import { loadManifest } from '../src/io/manifest.js';
import { readMask, readNifti, writeNifti } from '../src/io/nifti.js';
import { recistFromMask } from '../src/recist/from-mask.js';
import { validateRecist } from '../src/recist/validate.js';
import { sharedData, skipReason } from './helpers/shared-data.js';
import type { Mat3, Vec3 } from '../src/types/volume.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const dir = await mkdtemp(join(tmpdir(), 'recist3d-rfm-'));
test.after(() => rm(dir, { recursive: true, force: true }));

test('all 617 LIDC pairs give a valid manifest whose RECIST lies on the lesion', async (t) => {
  const images = sharedData('lidc', 'image');
  const masks = sharedData('lidc', 'mask');
  if (!images || !masks) return t.skip(skipReason('lidc'));
  const out = join(dir, 'lidc', 'manifest.csv');
  const res = await masksToManifest({ imagesDir: images, masksDir: masks, out, category: 'lung' });
  assert.equal(res.records.length, 617);
  assert.equal(res.failures.length, 0);
  assert.equal(res.unpaired.length, 0);
  const recs = await loadManifest(out);
  assert.equal(recs.length, 617);
  assert.ok(recs.every((r) => r.category === 'lung' && r.patientId?.startsWith('LIDC-IDRI-')));
  // spot check: the RECIST crossing lies on a lesion pixel of the key slice, axes perpendicular
  for (const r of recs.filter((_, q) => q % 60 === 0)) {
    const m = await readMask(r.maskPath!);
    const v = validateRecist(r.recist, m.size, m.spacingMm, { lesionId: r.lesionId });
    assert.ok(Math.abs(v.angleDeg - 90) < 0.1, `angle ${v.angleDeg}`);
    const [ci, cj] = v.centerIJ.map(Math.round);
    assert.equal(m.data[ci + m.size[0] * (cj + m.size[1] * r.keySlice)], 1, r.lesionId);
  }
});

test('noise is seeded per lesion; a grid mismatch fails that pair only; CLI runs with --help', async () => {
  const imgs = join(dir, 'imgs');
  const msks = join(dir, 'msks');
  await mkdir(imgs);
  await mkdir(msks);
  const mk = (n: number) => {
    const data = new Uint8Array(20 * 20 * 3);
    for (let j = 0; j < 20; j++)
      for (let i = 0; i < 20; i++)
        if ((i - 10) ** 2 / 36 + (j - 10) ** 2 / 9 <= 1) data[i + 20 * (j + 20)] = 1;
    return {
      size: [20, 20, 3] as Vec3,
      spacingMm: [1, 1, n] as Vec3,
      origin: [0, 0, 0] as Vec3,
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3,
      data,
      meta: {},
    };
  };
  await writeNifti(join(imgs, 'P1_a.nii.gz'), { ...mk(2), data: new Int16Array(1200) });
  await writeNifti(join(msks, 'P1_a.nii.gz'), mk(2));
  await writeNifti(join(imgs, 'P2_b.nii.gz'), { ...mk(2), data: new Int16Array(1200) });
  await writeNifti(join(msks, 'P2_b.nii.gz'), mk(3)); // different slice spacing
  await writeFile(join(imgs, 'P3_c.nii'), '');
  const out = join(dir, 'small.csv');
  const a = await masksToManifest({ imagesDir: imgs, masksDir: msks, out, noise: 0.2, seed: 1 });
  assert.equal(a.records.length, 1);
  assert.equal(a.failures[0].code, 'E_GRID_MISMATCH');
  assert.deepEqual(a.unpaired, [join(imgs, 'P3_c.nii')]);
  assert.equal(a.records[0].patientId, 'P1');
  const b = await masksToManifest({
    imagesDir: imgs,
    masksDir: msks,
    out,
    noise: 0.2,
    seed: 1,
    concurrency: 1,
  });
  assert.deepEqual(b.records[0].recist, a.records[0].recist);
  const exact = recistFromMask(mk(2));
  assert.notDeepEqual(a.records[0].recist, exact.recist);
  const img = await readNifti(join(imgs, 'P1_a.nii.gz'));
  assert.equal(img.size[2], 3);

  const help = await run('node', ['--import', 'tsx', 'src/cli/main.ts', 'recist-from-masks', '--help'], {
    cwd: repo,
  });
  assert.match(help.stdout, /--noise/);
  const r = await run(
    'node',
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'recist-from-masks',
      '--images',
      imgs,
      '--masks',
      msks,
      '--out',
      out,
      '--noise',
      '0.1',
    ],
    { cwd: repo },
  );
  assert.match(r.stdout, /measured 1 lesion\(s\), 1 failed, 1 unpaired/);
  assert.match(r.stderr, /P2_b: E_GRID_MISMATCH/);
  await copyFile(out, join(dir, 'copy.csv'));
  assert.equal((await loadManifest(join(dir, 'copy.csv'))).length, 1);
});
