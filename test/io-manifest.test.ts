import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest, writeManifest, ManifestError, parseCategory } from '../src/io/manifest.js';
import { isRecist3dError } from '../src/errors.js';
import { writeNifti } from '../src/io/nifti.js';
import type { Mat3, Vec3 } from '../src/types/volume.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-manifest-'));
test.after(() => rm(dir, { recursive: true, force: true }));
await mkdir(join(dir, 'img'));
for (const f of ['a.nii.gz', 'b.nii.gz', 'a_mask.nii.gz']) await writeFile(join(dir, 'img', f), '');

const HEADER = 'lesion_id,image,key_slice,recist,category,split,mask,patient_id,study_date,window,extra';

test('a valid manifest loads with absolute paths, parsed RECIST and optional fields', async () => {
  const p = join(dir, 'ok.csv');
  await writeFile(
    p,
    [
      HEADER,
      'L1,img/a.nii.gz,3,"10,20,30,20,20,15,20,25",liver,train,img/a_mask.nii.gz,P1,20200101,"-160,240",x',
      'L2,img/b.nii.gz,0,"1 2 9 2 5 0 5 4",4,,,,,,',
      'L3,img/b.nii.gz,7,"1,2,9,2,5,0,5,4",,test,,,,,',
      '',
    ].join('\n'),
  );
  const recs = await loadManifest(p);
  assert.equal(recs.length, 3);
  const [a, b, c] = recs;
  assert.equal(a.imagePath, join(dir, 'img', 'a.nii.gz'));
  assert.equal(a.maskPath, join(dir, 'img', 'a_mask.nii.gz'));
  assert.deepEqual(a.recist, {
    long: [
      [10, 20],
      [30, 20],
    ],
    short: [
      [20, 15],
      [20, 25],
    ],
  });
  assert.deepEqual(a.window, [-160, 240]);
  assert.equal(a.split, 'train');
  assert.equal(a.patientId, 'P1');
  assert.equal(a.row, 2);
  assert.equal(b.category, 'liver', 'DeepLesion code 4 = liver');
  assert.equal(c.category, 'unknown');
  assert.equal(c.row, 4);

  const out = join(dir, 'sub', 'copy.csv');
  await writeManifest(out, recs);
  const again = await loadManifest(out);
  assert.deepEqual(
    again.map(({ row: _r, ...x }) => x),
    recs.map(({ row: _r, ...x }) => x),
  );
});

test('all bad rows are reported at once with row, field and reason', async () => {
  const p = join(dir, 'bad.csv');
  await writeFile(
    p,
    [
      HEADER,
      'L1,img/a.nii.gz,3,"10,20,30,20,20,15,20",liver,train,,,,,', // 7 numbers
      'L1,img/a.nii.gz,2,"10,20,30,20,20,15,20,25",,,,,,,', // duplicate id
      'L3,img/missing.nii.gz,-1,"10,20,30,x,20,15,20,25",kidneys,holdout,img/nomask.nii.gz,,,"5",', // many
      'L4,img/b.nii.gz,1,"10,20,30,20,20,15,20,25",,,,,,,', // good
    ].join('\n'),
  );
  await assert.rejects(loadManifest(p), (e) => {
    assert.ok(e instanceof ManifestError && isRecist3dError(e, 'E_MANIFEST_INVALID'));
    const got = e.issues.map((i) => `${i.row}:${i.field}`);
    assert.deepEqual(got, [
      '2:recist',
      '3:lesion_id',
      '4:image',
      '4:key_slice',
      '4:recist',
      '4:category',
      '4:split',
      '4:mask',
      '4:window',
    ]);
    assert.match(e.issues[0].reason, /8 numbers.*received 7/);
    assert.match(e.issues[4].reason, /"x"/);
    assert.match(e.message, /row 2, field recist/);
    assert.match(e.message, /bad\.csv/);
    return true;
  });
});

test('missing required column and missing file', async () => {
  const p = join(dir, 'nocol.csv');
  await writeFile(p, 'lesion_id,image,recist\nL1,img/a.nii.gz,"1,2,3,4,5,6,7,8"\n');
  await assert.rejects(
    loadManifest(p),
    (e) => e instanceof ManifestError && e.issues[0].field === 'key_slice',
  );
  await assert.rejects(loadManifest(join(dir, 'none.csv')), (e) => isRecist3dError(e, 'E_FILE_NOT_FOUND'));
});

test('parseCategory accepts names, codes and rejects unknown words', () => {
  assert.equal(parseCategory('Lung'), 'lung');
  assert.equal(parseCategory('soft tissue'), 'soft_tissue');
  assert.equal(parseCategory('-1'), 'unknown');
  assert.equal(parseCategory('8'), 'pelvis');
  assert.equal(parseCategory('9'), undefined);
  assert.equal(parseCategory('brain'), undefined);
});

test('checkImages: key slice beyond the volume, RECIST outside the slice and a mask off-grid are reported', async () => {
  const vol = (k: number, dz = 2) => ({
    size: [32, 24, k] as Vec3,
    spacingMm: [0.7, 0.7, dz] as Vec3,
    origin: [0, 0, 0] as Vec3,
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1] as Mat3,
    data: new Uint8Array(32 * 24 * k),
    meta: {},
  });
  await writeNifti(join(dir, 'img', 'v.nii.gz'), vol(4));
  await writeNifti(join(dir, 'img', 'm_ok.nii.gz'), vol(4));
  await writeNifti(join(dir, 'img', 'm_bad.nii.gz'), vol(4, 3));
  const p = join(dir, 'geo.csv');
  await writeFile(
    p,
    [
      'lesion_id,image,key_slice,recist,mask',
      'A,img/v.nii.gz,3,"2,2,10,2,6,0,6,4",img/m_ok.nii.gz',
      'B,img/v.nii.gz,4,"2,2,10,2,6,0,6,4",',
      'C,img/v.nii.gz,1,"2,2,40,2,6,0,6,4",',
      'D,img/v.nii.gz,1,"2,2,10,2,6,0,6,4",img/m_bad.nii.gz',
    ].join('\n'),
  );
  assert.equal((await loadManifest(p)).length, 4, 'without checkImages only the CSV is checked');
  await assert.rejects(loadManifest(p, { checkImages: true }), (e) => {
    assert.ok(e instanceof ManifestError);
    assert.deepEqual(
      e.issues.map((i) => `${i.row}:${i.field}`),
      ['3:key_slice', '4:recist', '5:mask'],
    );
    assert.match(e.issues[1].reason, /outside the 32x24 slice/);
    return true;
  });
});
