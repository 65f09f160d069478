import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, truncate, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readDicomFolders } from '../src/dicom/read-series.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { voxelToWorld } from '../src/geometry/affine.js';
import type { Vec3, Volume } from '../src/types/volume.js';
import { pydicom, requireValidators, writeTestSeries, type TestSeriesOptions } from './helpers/dicom.js';
import { sharedData, skipReason } from './helpers/shared-data.js';

const root = await mkdtemp(join(tmpdir(), 'recist3d-dicom-read-'));
test.after(() => rm(root, { recursive: true, force: true }));
let seq = 0;
const fresh = () => join(root, `case${++seq}`);

const ras = (p: number[]): Vec3 => [-p[0], -p[1], p[2]];
const close = (a: readonly number[], b: readonly number[], tol: number, what: string) =>
  a.forEach((v, x) => assert.ok(Math.abs(v - b[x]) <= tol, `${what}[${x}]: ${v} vs ${b[x]}`));

/** Checks values and the voxel -> patient mapping of a volume read from a test series. */
function checkSeries(o: TestSeriesOptions, s: Awaited<ReturnType<typeof writeTestSeries>>, v: Volume) {
  const [ni, nj, nk] = o.size;
  assert.deepEqual(v.size, [ni, nj, nk]);
  const hu = o.hu!;
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++)
        assert.equal(v.data[i + ni * (j + nj * k)], hu(i, j, k), `HU at ${i},${j},${k}`);
  // voxel (i, j, k) must sit at IPP_k + i * colSpacing * row + j * rowSpacing * col, in RAS
  const iop = o.orientation ?? [1, 0, 0, 0, 1, 0];
  const ps = o.pixelSpacing ?? [0.8, 0.7];
  for (const [i, j, k] of [
    [0, 0, 0],
    [ni - 1, 0, 1],
    [2, nj - 1, nk - 1],
  ] as Vec3[]) {
    const lps = s.positions[k].map((p, a) => p + i * ps[1] * iop[a] + j * ps[0] * iop[3 + a]);
    close(voxelToWorld(v, [i, j, k]), ras(lps), 1e-6, `world of ${i},${j},${k}`);
  }
}

const hu = (i: number, j: number, k: number) => ((i * 37 + j * 11 + k * 97) % 3000) - 1024;

for (const [name, ts] of [
  ['explicit VR little endian', '1.2.840.10008.1.2.1'],
  ['implicit VR little endian', '1.2.840.10008.1.2'],
]) {
  test(`${name}: slices sorted along the normal, spacing from ImagePositionPatient, HU and LPS->RAS exact`, async () => {
    const o: TestSeriesOptions = { size: [6, 5, 7], hu, transferSyntaxUid: ts, sliceThickness: 9 };
    const s = await writeTestSeries(fresh(), o);
    const r = await readDicomFolders([s.dir]);
    assert.deepEqual(r.failures, []);
    assert.equal(r.series.length, 1);
    const { volume, identity } = r.series[0];
    assert.ok(volume.data instanceof Int16Array);
    close(volume.spacingMm, [0.7, 0.8, 2.5], 1e-9, 'spacing (not SliceThickness 9)');
    checkSeries(o, s, volume);
    assert.deepEqual(
      identity.slices.map((x) => x.sopInstanceUid),
      s.sopUids,
      'sidecar slices in k order',
    );
    assert.equal(identity.seriesInstanceUid, s.seriesUid);
    assert.deepEqual(identity.transferSyntaxUids, [ts]);
  });
}

test('oblique orientation, unsigned storage with slope 2: values and voxel positions survive the NIfTI round trip', async () => {
  const c = Math.cos(0.3);
  const sn = Math.sin(0.3);
  const o: TestSeriesOptions = {
    size: [5, 6, 4],
    orientation: [c, sn, 0, 0, 0, -1], // a tilted coronal plane
    origin: [10, -50, 80],
    unsigned: true,
    rescaleSlope: 2,
    rescaleIntercept: -1024,
    hu: (i, j, k) => 2 * ((i + 3 * j + 5 * k) % 200) - 1024,
  };
  const s = await writeTestSeries(fresh(), o);
  const r = await readDicomFolders([s.dir]);
  assert.deepEqual(r.failures, []);
  checkSeries(o, s, r.series[0].volume);
  const p = join(root, 'oblique.nii.gz');
  await writeNifti(p, r.series[0].volume);
  const back = await readNifti(p);
  checkSeries(o, s, back); // float32 sform: positions within 1e-6 mm here because the numbers are small
});

test('a non-integer rescale slope gives float HU', async () => {
  const o: TestSeriesOptions = {
    size: [4, 4, 3],
    rescaleSlope: 0.5,
    rescaleIntercept: -100.25,
    hu: (i, j, k) => 0.5 * (i + j + k) - 100.25,
  };
  const s = await writeTestSeries(fresh(), o);
  const r = await readDicomFolders([s.dir]);
  assert.ok(r.series[0].volume.data instanceof Float32Array);
  checkSeries(o, s, r.series[0].volume);
});

for (const [name, tool, args, ts] of [
  ['JPEG Lossless SV1', 'dcmcjpeg', ['+e1'], '1.2.840.10008.1.2.4.70'],
  ['JPEG Lossless (process 14)', 'dcmcjpeg', ['+el'], '1.2.840.10008.1.2.4.57'],
  ['JPEG-LS lossless', 'dcmcjpls', [], '1.2.840.10008.1.2.4.80'],
  ['RLE Lossless', 'dcmcrle', [], '1.2.840.10008.1.2.5'],
] as const) {
  test(`${name} (encoded by dcmtk's ${tool}): the same volume as the uncompressed series`, async () => {
    requireValidators();
    const o: TestSeriesOptions = {
      size: [33, 17, 4],
      hu: (i, j, k) => ((i * 53 + j * 29 + k * 71) % 2500) - 1100,
      rescaleIntercept: 0,
    };
    const s = await writeTestSeries(fresh(), o);
    const dir = fresh();
    await mkdir(dir);
    for (const f of s.files) {
      const r = spawnSync(tool, [...args, f, join(dir, basename(f))], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    }
    const r = await readDicomFolders([dir]);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.series[0].identity.transferSyntaxUids, [ts]);
    checkSeries(o, s, r.series[0].volume);
  });
}

test('two series in one folder become two volumes', async () => {
  const dir = fresh();
  const a = await writeTestSeries(dir, { size: [4, 4, 3], hu, fileName: (k) => `a${k}.dcm` });
  const b = await writeTestSeries(dir, {
    size: [3, 5, 4],
    hu,
    fileName: (k) => `b${k}.dcm`,
    studyUid: a.studyUid,
  });
  const r = await readDicomFolders([dir]);
  assert.deepEqual(r.failures, []);
  assert.deepEqual(
    r.series.map((s) => s.identity.seriesInstanceUid).sort(),
    [a.seriesUid, b.seriesUid].sort(),
  );
});

/** A good series and a bad one under one root: the bad one fails naming `badFile`, the good one imports. */
async function expectFailure(
  bad: Partial<TestSeriesOptions>,
  code: string,
  message: RegExp,
  damage?: (files: string[]) => Promise<string>,
) {
  const dir = fresh();
  const good = await writeTestSeries(join(dir, 'good'), { size: [4, 4, 3], hu });
  const s = await writeTestSeries(join(dir, 'bad'), { size: [4, 4, 6], hu, ...bad });
  const badFile = damage ? await damage(s.files) : undefined;
  const r = await readDicomFolders([dir]);
  assert.deepEqual(
    r.series.map((x) => x.identity.seriesInstanceUid),
    [good.seriesUid],
    'the good series imports',
  );
  assert.equal(r.failures.length, 1, JSON.stringify(r.failures));
  const f = r.failures[0];
  assert.equal(f.code, code);
  assert.match(f.message, message);
  assert.ok(f.file.startsWith(join(dir, 'bad')), `names a file of the bad series: ${f.file}`);
  if (badFile) assert.equal(f.file, badFile);
  assert.ok(f.message.includes(f.file), 'the message names the file');
}

test('a truncated file: E_DICOM_TRUNCATED naming it', () =>
  expectFailure({}, 'E_DICOM_TRUNCATED', /cut short|ends/, async (files) => {
    await truncate(files[2], (await stat(files[2])).size - 10);
    return files[2];
  }));

test('a file cut inside its header: E_DICOM_TRUNCATED naming it, and its series then lacks that slice', async () => {
  const dir = fresh();
  const good = await writeTestSeries(join(dir, 'good'), { size: [4, 4, 3], hu });
  const s = await writeTestSeries(join(dir, 'bad'), { size: [4, 4, 6], hu });
  await truncate(s.files[1], 300); // slice k = 4 (files are written in reverse order)
  const r = await readDicomFolders([dir]);
  assert.deepEqual(
    r.series.map((x) => x.identity.seriesInstanceUid),
    [good.seriesUid],
  );
  assert.deepEqual(
    r.failures.map((f) => f.code),
    ['E_DICOM_TRUNCATED', 'E_DICOM_SERIES'],
  );
  assert.equal(r.failures[0].file, s.files[1]);
  assert.match(r.failures[0].message, /ends inside a data element/);
  assert.match(r.failures[1].message, /Missing slice/);
});

test('a missing pixel module: E_DICOM_ATTRIBUTE naming the file', () =>
  expectFailure(
    { edit: (k, ds) => void (k === 4 && (delete ds.PixelData, delete ds.Rows)), fileName: (k) => `s${k}` },
    'E_DICOM_ATTRIBUTE',
    /pixel module/,
  ));

test('an unsupported transfer syntax (HTJ2K): E_DICOM_UNSUPPORTED naming the file', () =>
  expectFailure(
    { transferSyntaxUid: '1.2.840.10008.1.2.4.201' },
    'E_DICOM_UNSUPPORTED',
    /1\.2\.840\.10008\.1\.2\.4\.201 is not supported/,
  ));

test('two orientations in one series: E_DICOM_SERIES', () =>
  expectFailure(
    {
      orientationOf: (k, o) => (k === 3 ? [1, 0, 0, 0, 0.9950041652780258, 0.09983341664682815] : o),
      fileName: (k) => `s${k}`,
    },
    'E_DICOM_SERIES',
    /Two orientations/,
  ));

test('gantry tilt: E_DICOM_SERIES', () =>
  expectFailure({ positionOf: (k, p) => [p[0], p[1] + 0.6 * k, p[2]] }, 'E_DICOM_SERIES', /Gantry tilt/));

test('a missing slice: E_DICOM_SERIES', () =>
  expectFailure({ skip: [3] }, 'E_DICOM_SERIES', /Missing slice.*about 1 slice/));

test('uneven spacing: E_DICOM_SERIES', () =>
  expectFailure(
    { positionOf: (k, p) => [p[0], p[1], p[2] + (k >= 3 ? 0.7 : 0)] },
    'E_DICOM_SERIES',
    /Uneven slice spacing/,
  ));

test('two slices at one position: E_DICOM_SERIES', () =>
  expectFailure(
    { positionOf: (k, p) => [p[0], p[1], k === 2 ? p[2] - 2.5 : p[2]] },
    'E_DICOM_SERIES',
    /same position/,
  ));

test('a file that is not DICOM is reported, the series beside it imports', async () => {
  const dir = fresh();
  const s = await writeTestSeries(dir, { size: [4, 4, 3], hu });
  await writeFile(join(dir, 'notes.txt'), 'not a DICOM file, but long enough to have 132 bytes'.repeat(4));
  const r = await readDicomFolders([dir]);
  assert.equal(r.series.length, 1);
  assert.equal(r.series[0].identity.seriesInstanceUid, s.seriesUid);
  assert.equal(r.failures.length, 1);
  assert.equal(r.failures[0].code, 'E_DICOM_CORRUPT');
  assert.equal(r.failures[0].file, join(dir, 'notes.txt'));
});

const j2k = sharedData('ct-backgrounds', 'example_ct_dicom');
test(
  'real JPEG 2000 CT (20 slices): decoded like pydicom + Pillow decode it; spacing 2 mm from positions, not SliceThickness 3',
  { skip: j2k ? false : skipReason('ct-backgrounds', 'example_ct_dicom') },
  async () => {
    requireValidators();
    const r = await readDicomFolders([j2k!]);
    assert.deepEqual(r.failures, []);
    const v = r.series[0].volume;
    assert.deepEqual(v.size, [512, 512, 20]);
    close(v.spacingMm, [0.9765625, 0.9765625, 2], 1e-9, 'spacing');
    // pydicom decodes each file independently; we compare sums and a few voxels per slice
    const files = r.series[0].identity.slices.map((s) => s.file);
    const ref = pydicom<{ sum: number; px: number[] }[]>(
      `import sys, json, pydicom
out = []
for f in json.loads(sys.argv[1]):
    d = pydicom.dcmread(f)
    a = d.pixel_array.astype('int64') * int(d.RescaleSlope) + int(d.RescaleIntercept)
    out.append({'sum': int(a.sum()), 'px': [int(a[100, 200]), int(a[256, 256]), int(a[400, 50])]})
print(json.dumps(out))`,
      files,
    );
    const plane = 512 * 512;
    ref.forEach((s, k) => {
      let sum = 0;
      for (let x = 0; x < plane; x++) sum += v.data[k * plane + x];
      assert.equal(sum, s.sum, `slice ${k} sum`);
      assert.deepEqual(
        [
          v.data[k * plane + 200 + 512 * 100],
          v.data[k * plane + 256 + 512 * 256],
          v.data[k * plane + 50 + 512 * 400],
        ],
        s.px,
      );
    });
  },
);

const sts = sharedData('sts', 'dicom', 'STS_007', 'image');
test(
  'real uncompressed CT (STS_007): same grid and voxels as the NIfTI of the same case',
  {
    skip: sts && sharedData('sts', 'image', 'STS_007.nii.gz') ? false : skipReason('sts', 'dicom', 'STS_007'),
  },
  async () => {
    const r = await readDicomFolders([sts!]);
    assert.deepEqual(r.failures, []);
    const p = join(root, 'sts007.nii.gz');
    await writeNifti(p, r.series[0].volume);
    const ours = await readNifti(p);
    const ref = await readNifti(sharedData('sts', 'image', 'STS_007.nii.gz')!);
    assert.deepEqual(ours.size, ref.size);
    close(ours.spacingMm, ref.spacingMm, 1e-6, 'spacing');
    close(ours.origin, ref.origin, 1e-4, 'origin');
    close(ours.direction, ref.direction, 1e-9, 'direction');
    let diff = 0;
    for (let x = 0; x < ref.data.length; x++) if (ours.data[x] !== ref.data[x]) diff++;
    assert.equal(diff, 0);
  },
);
