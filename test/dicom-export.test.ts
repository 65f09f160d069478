import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportDicom } from '../src/dicom/export.js';
import { importDicom } from '../src/dicom/import.js';
import { encodeDicom, readDicomFile } from '../src/dicom/part10.js';
import { readDicomFolders } from '../src/dicom/read-series.js';
import { isRecist3dError } from '../src/errors.js';
import { voxelToWorld } from '../src/geometry/affine.js';
import { writeManifest } from '../src/io/manifest.js';
import { readMask, readNifti, readNiftiHeader, writeNifti } from '../src/io/nifti.js';
import type { LesionRecord } from '../src/types/recist.js';
import type { Mask, Mat3, Vec3, Volume } from '../src/types/volume.js';
import { dciodvfyErrors, requireValidators, writeTestSeries } from './helpers/dicom.js';
import { cornerstoneSr } from './helpers/cornerstone-sr.js';
import { assertFramesOnMask, checkSegSr, lpsToMaskVoxel } from './helpers/seg-check.js';
import { cornerstoneLabelmaps } from './helpers/cornerstone-seg.js';
import { sharedData, skipReason } from './helpers/shared-data.js';

const root = await mkdtemp(join(tmpdir(), 'recist3d-dicom-export-'));
test.after(() => rm(root, { recursive: true, force: true }));

/** An ellipsoid mask on a volume's grid. */
function ellipsoid(grid: Omit<Volume, 'data'>, c: Vec3, r: Vec3): Mask {
  const [ni, nj, nk] = grid.size;
  const data = new Uint8Array(ni * nj * nk);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++)
        if (((i - c[0]) / r[0]) ** 2 + ((j - c[1]) / r[1]) ** 2 + ((k - c[2]) / r[2]) ** 2 <= 1)
          data[i + ni * (j + nj * k)] = 1;
  return { ...grid, data, meta: {} };
}

/**
 * A run folder in the format `recist3d run` writes (lesions.csv, metrics.json naming the manifest, masks/):
 * export-dicom reads only these artifacts, so the test makes them instead of training a network.
 */
async function fakeRun(
  runDir: string,
  manifest: string,
  lesions: { id: string; mask?: Mask; status?: string; long?: number; short?: number }[],
) {
  await mkdir(join(runDir, 'masks'), { recursive: true });
  const rows = ['lesion_id,status,mask,volume_mm3,recist_long_mm,recist_short_mm'];
  for (const l of lesions) {
    let volume = '';
    if (l.mask) {
      await writeNifti(join(runDir, 'masks', `${l.id}.nii.gz`), l.mask);
      const n = l.mask.data.reduce((s, v) => s + v, 0);
      volume = (n * l.mask.spacingMm[0] * l.mask.spacingMm[1] * l.mask.spacingMm[2]).toFixed(1);
    }
    rows.push(
      [
        l.id,
        l.status ?? 'ok',
        l.mask ? `masks/${l.id}.nii.gz` : '',
        volume,
        l.long ?? '',
        l.short ?? '',
      ].join(','),
    );
  }
  await writeFile(join(runDir, 'lesions.csv'), rows.join('\n') + '\n');
  await writeFile(join(runDir, 'metrics.json'), JSON.stringify({ manifest }));
}

const listDcm = async (dir: string) =>
  (await readdir(dir)).filter((f) => f.endsWith('.dcm')).map((f) => join(dir, f));

// --- images that came from DICOM: the export references the original series ---------------------------------
const dicomCase = join(root, 'from-dicom');
const prepared = (async () => {
  const s = await writeTestSeries(join(dicomCase, 'ct'), {
    size: [48, 40, 10],
    patientId: 'PX',
    studyDate: '20240102',
  });
  const source = (await readDicomFile(s.files[0])).dataset;
  const at = (k: number, long: number[][], short: number[][]) => ({
    long: long.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 })),
    short: short.map(([x, y]) => ({ x: x + 0.5, y: y + 0.5 })),
    sopInstanceUid: s.sopUids[k],
  });
  const sr = cornerstoneSr(source, [
    at(
      3,
      [
        [12, 14],
        [28, 18],
      ],
      [
        [19, 22],
        [21, 10],
      ],
    ),
    at(
      6,
      [
        [30, 22],
        [40, 30],
      ],
      [
        [33, 30],
        [37, 22],
      ],
    ),
  ]);
  await writeFile(join(dicomCase, 'marks.dcm'), encodeDicom(sr));
  const imp = await importDicom({
    series: [s.dir],
    sr: [join(dicomCase, 'marks.dcm')],
    outDir: join(dicomCase, 'import'),
  });
  assert.deepEqual(imp.failures, []);
  const header = await readNiftiHeader(imp.records[0].imagePath);
  const masks = [ellipsoid(header, [20, 16, 3], [8, 6, 2.2]), ellipsoid(header, [35, 26, 6], [5, 4, 1.6])];
  const ids = imp.records.map((r) => r.lesionId);
  await fakeRun(join(dicomCase, 'run'), imp.manifestPath!, [
    { id: ids[0], mask: masks[0], long: 17.2, short: 9.8 },
    { id: ids[1], mask: masks[1] },
    { id: 'never-segmented', status: 'failed' },
  ]);
  return { s, imp, ids, masks };
})();

test('from DICOM: SEG and SR reference the original series and instances, pass dciodvfy, and the SEG frames land on the mask voxels', async () => {
  requireValidators();
  const { s, ids } = await prepared;
  const out = join(dicomCase, 'export-all');
  const res = await exportDicom({ runDir: join(dicomCase, 'run'), outDir: out });
  assert.equal(res.studies.length, 1);
  const st = res.studies[0];
  assert.equal(st.reference, 'original');
  assert.deepEqual(st.ctSeries, []);
  assert.deepEqual(st.lesions, ids);
  assert.deepEqual(
    res.skipped.map((x) => x.lesionId),
    ['never-segmented'],
  );
  for (const f of [...st.seg, st.sr]) assert.deepEqual(dciodvfyErrors(f), [], `dciodvfy errors in ${f}`);
  const c = checkSegSr(st.seg[0], st.sr, s.files);
  assert.deepEqual(
    c.segments.map((x) => [x.number, x.label, x.type]),
    [
      [1, ids[0], 'Neoplasm'],
      [2, ids[1], 'Neoplasm'],
    ],
  );
  await assertFramesOnMask(c, 1, join(dicomCase, 'run', 'masks', `${ids[0]}.nii.gz`));
  await assertFramesOnMask(c, 2, join(dicomCase, 'run', 'masks', `${ids[1]}.nii.gz`));
  // the SR: reader RECIST lengths as lesions.csv gives them, the volume in mm3, auto-RECIST from the mask
  const g1 = c.nums.filter((n) => n.group.startsWith(`${ids[0]}#`));
  assert.deepEqual(
    g1.filter((n) => n.group.endsWith('#0')).map((n) => [n.name, n.value, n.unit]),
    [
      ['Long Axis', 17.2, 'mm'],
      ['Short Axis', 9.8, 'mm'],
    ],
  );
  const vol = g1.find((n) => n.name === 'Volume')!;
  const voxels = (await readMask(join(dicomCase, 'run', 'masks', `${ids[0]}.nii.gz`))).data.reduce(
    (a, v) => a + v,
    0,
  );
  assert.ok(Math.abs(vol.value - voxels * 0.7 * 0.8 * 2.5) < 0.1, `volume ${vol.value}`);
  assert.equal(vol.unit, 'mm3');
  assert.equal(g1.filter((n) => n.name === 'Long Axis').length, 2, 'reader and auto long axis');
});

test('from DICOM: the SEG read back by @cornerstonejs/adapters (as a viewer reads it) gives the NIfTI masks voxel for voxel', async () => {
  const { s, ids } = await prepared;
  const out = join(dicomCase, 'export-cs');
  const res = await exportDicom({ runDir: join(dicomCase, 'run'), outDir: out });
  const maps = await cornerstoneLabelmaps(res.studies[0].seg[0], s.files);
  const masks = await Promise.all(ids.map((id) => readMask(join(dicomCase, 'run', 'masks', `${id}.nii.gz`))));
  const [ni, nj] = masks[0].size;
  let compared = 0;
  for (const m of maps) {
    const v = lpsToMaskVoxel(masks[0], m.ipp);
    const k = Math.round(v[2]);
    assert.ok(
      Math.abs(v[0]) < 1e-3 && Math.abs(v[1]) < 1e-3 && Math.abs(v[2] - k) < 1e-3,
      `slice ${m.file} at ${v}`,
    );
    for (let x = 0; x < ni * nj; x++) {
      const want = masks[0].data[k * ni * nj + x] ? 1 : masks[1].data[k * ni * nj + x] ? 2 : 0;
      assert.equal(m.labels[x], want, `${m.file} pixel ${x}`);
      compared += want ? 1 : 0;
    }
  }
  assert.equal(compared, masks[0].data.reduce((a, b) => a + b, 0) + masks[1].data.reduce((a, b) => a + b, 0));
});

test('from DICOM: the exported SR imports again to the same RECIST (the auto-RECIST group is not taken as marks)', async () => {
  const { s, imp } = await prepared;
  const res = await exportDicom({ runDir: join(dicomCase, 'run'), outDir: join(dicomCase, 'export-sr') });
  const again = await importDicom({
    series: [s.dir],
    sr: [res.studies[0].sr],
    outDir: join(dicomCase, 'reimport'),
  });
  assert.deepEqual(again.failures, []);
  assert.equal(again.records.length, 2);
  again.records.forEach((r, q) => {
    assert.equal(r.keySlice, imp.records[q].keySlice);
    const flat = (x: LesionRecord) => [...x.recist.long.flat(), ...x.recist.short.flat()];
    flat(r).forEach((v, n) => assert.ok(Math.abs(v - flat(imp.records[q])[n]) < 1e-3));
    assert.equal(r.category, imp.records[q].category);
  });
});

test('--lesion exports only the named lesions; an unknown id is E_USAGE', async () => {
  const { ids } = await prepared;
  const res = await exportDicom({
    runDir: join(dicomCase, 'run'),
    outDir: join(dicomCase, 'export-one'),
    lesions: [ids[1]],
  });
  assert.deepEqual(res.studies[0].lesions, [ids[1]]);
  await assert.rejects(
    exportDicom({ runDir: join(dicomCase, 'run'), outDir: join(dicomCase, 'x'), lesions: ['nope'] }),
    (e) => isRecist3dError(e, 'E_USAGE') && /nope/.test(e.message),
  );
});

test('a mask that is not on its image grid is skipped with the reason; the other lesion exports', async () => {
  const { imp, ids, masks } = await prepared;
  const shifted = {
    ...masks[0],
    origin: [masks[0].origin[0] + 5, masks[0].origin[1], masks[0].origin[2]] as Vec3,
  };
  await fakeRun(join(dicomCase, 'run-shifted'), imp.manifestPath!, [
    { id: ids[0], mask: shifted },
    { id: ids[1], mask: masks[1] },
  ]);
  const res = await exportDicom({
    runDir: join(dicomCase, 'run-shifted'),
    outDir: join(dicomCase, 'export-shifted'),
  });
  assert.deepEqual(res.studies[0].lesions, [ids[1]]);
  assert.equal(res.skipped.length, 1);
  assert.equal(res.skipped[0].lesionId, ids[0]);
  assert.match(res.skipped[0].reason, /not the image grid/);
});

// --- images that came from NIfTI: the export writes the CT as a new series ------------------------------------
test('from NIfTI (rotated, left-handed grid): a new CT series, SEG and SR pass dciodvfy; the CT reads back onto the same world positions', async () => {
  requireValidators();
  const dir = join(root, 'from-nifti');
  const a = (20 * Math.PI) / 180;
  // i flipped and rotated about z: det < 0, so DICOM's slice normal points against k
  const direction: Mat3 = [-Math.cos(a), -Math.sin(a), 0, -Math.sin(a), Math.cos(a), 0, 0, 0, 1];
  const size: Vec3 = [30, 28, 7];
  const data = Int16Array.from({ length: 30 * 28 * 7 }, (_, x) => ((x * 37) % 2400) - 1000);
  const vol: Volume<Int16Array> = {
    size,
    spacingMm: [0.9, 0.75, 3],
    origin: [12.5, -40.25, 88],
    direction,
    data,
    meta: {},
  };
  const image = join(dir, 'images', 'case1.nii.gz');
  await writeNifti(image, vol);
  const m1 = ellipsoid(vol, [12, 14, 3], [6, 5, 1.8]);
  const recs: LesionRecord[] = [
    {
      lesionId: 'N1',
      imagePath: image,
      keySlice: 3,
      recist: {
        long: [
          [6, 14],
          [18, 14],
        ],
        short: [
          [12, 10],
          [12, 18],
        ],
      },
      category: 'lung',
      patientId: 'NP1',
      studyDate: '20220330',
      row: 2,
    },
  ];
  await writeManifest(join(dir, 'manifest.csv'), recs);
  await fakeRun(join(dir, 'run'), join(dir, 'manifest.csv'), [{ id: 'N1', mask: m1 }]);
  const res = await exportDicom({ runDir: join(dir, 'run'), outDir: join(dir, 'out') });
  const st = res.studies[0];
  assert.equal(st.reference, 'new');
  assert.equal(st.ctSeries.length, 1);
  const ct = await listDcm(st.ctSeries[0]);
  assert.equal(ct.length, 7);
  for (const f of [...ct, ...st.seg, st.sr])
    assert.deepEqual(dciodvfyErrors(f), [], `dciodvfy errors in ${f}`);
  const c = checkSegSr(st.seg[0], st.sr, ct);
  await assertFramesOnMask(c, 1, join(dir, 'run', 'masks', 'N1.nii.gz'));
  // the CT series read back: every voxel at the same world position has the same HU
  const back = (await readDicomFolders([st.ctSeries[0]])).series[0].volume;
  const src = await readNifti(image);
  let checked = 0;
  for (let k = 0; k < 7; k++)
    for (let j = 0; j < 28; j++)
      for (let i = 0; i < 30; i++) {
        const w = voxelToWorld(back, [i, j, k]);
        const v = lpsToMaskVoxel(src as Mask, [-w[0], -w[1], w[2]]).map((x) => Math.round(x * 1e3) / 1e3);
        assert.ok(v.every(Number.isInteger), `voxel ${i},${j},${k} maps to ${v}`);
        assert.equal(back.data[i + 30 * (j + 28 * k)], src.data[v[0] + 30 * (v[1] + 28 * v[2])]);
        checked++;
      }
  assert.equal(checked, 30 * 28 * 7);
});

test('from NIfTI: the SEG read back by @cornerstonejs/adapters matches the mask', async () => {
  const dir = join(root, 'from-nifti');
  const res = await exportDicom({ runDir: join(dir, 'run'), outDir: join(dir, 'out-cs') });
  const st = res.studies[0];
  const ct = await listDcm(st.ctSeries[0]);
  const mask = await readMask(join(dir, 'run', 'masks', 'N1.nii.gz'));
  const maps = await cornerstoneLabelmaps(st.seg[0], ct);
  const plane = mask.size[0] * mask.size[1];
  let ones = 0;
  for (const m of maps) {
    const k = Math.round(lpsToMaskVoxel(mask, m.ipp)[2]);
    for (let x = 0; x < plane; x++) {
      assert.equal(m.labels[x], mask.data[k * plane + x], `slice ${k} pixel ${x}`);
      ones += m.labels[x];
    }
  }
  assert.equal(
    ones,
    mask.data.reduce((s, v) => s + v, 0),
  );
});

// --- real data: a PACS export (CT + RTSTRUCT) through import, a run folder, export and a viewer's reader -------
const sts = sharedData('sts', 'dicom', 'STS_007');
test(
  'STS_007 (real CT + RTSTRUCT): import makes the mask from the contours; its SEG passes dciodvfy, references the original slices and reads back through the adapters as the shared mask',
  {
    skip: sts && sharedData('sts', 'mask', 'STS_007.nii.gz') ? false : skipReason('sts', 'dicom', 'STS_007'),
  },
  async () => {
    requireValidators();
    const dir = join(root, 'sts');
    const imp = await importDicom({ series: [sts!], outDir: join(dir, 'import') });
    assert.deepEqual(imp.failures, []);
    assert.equal(imp.records.length, 1);
    const r = imp.records[0];
    const truth = await readMask(sharedData('sts', 'mask', 'STS_007.nii.gz')!);
    const ours = await readMask(r.maskPath!);
    assert.deepEqual(
      Buffer.compare(Buffer.from(ours.data), Buffer.from(truth.data)),
      0,
      'RTSTRUCT mask = shared mask',
    );
    await fakeRun(join(dir, 'run'), imp.manifestPath!, [{ id: r.lesionId, mask: ours }]);
    const res = await exportDicom({ runDir: join(dir, 'run'), outDir: join(dir, 'out') });
    const st = res.studies[0];
    assert.equal(st.reference, 'original');
    for (const f of [...st.seg, st.sr]) assert.deepEqual(dciodvfyErrors(f), []);
    const ct = (await readdir(join(sts!, 'image'))).map((f) => join(sts!, 'image', f));
    const c = checkSegSr(st.seg[0], st.sr, ct);
    await assertFramesOnMask(c, 1, r.maskPath!);
    const maps = await cornerstoneLabelmaps(st.seg[0], ct);
    const plane = truth.size[0] * truth.size[1];
    let diff = 0;
    for (const m of maps) {
      const k = Math.round(lpsToMaskVoxel(truth, m.ipp)[2]);
      for (let x = 0; x < plane; x++) if ((m.labels[x] ? 1 : 0) !== truth.data[k * plane + x]) diff++;
    }
    assert.equal(diff, 0);
  },
);

test('an anonymised series (empty Study/Series/SOP Instance UIDs) cannot be referenced: the CT is written anew, patient and study kept', async () => {
  requireValidators();
  const dir = join(root, 'anon');
  await writeTestSeries(join(dir, 'ct'), {
    size: [20, 18, 5],
    patientId: 'ANON7',
    edit: (_k, ds) => {
      ds.StudyInstanceUID = '';
      ds.SeriesInstanceUID = '';
      ds.SOPInstanceUID = '';
    },
  });
  const manifest = join(dir, 'marks.csv');
  await writeFile(manifest, `lesion_id,image,key_slice,recist,category\nA1,ct,2,"4,8,14,8,9,4,9,12",liver\n`);
  const imp = await importDicom({ series: [join(dir, 'ct')], manifest, outDir: join(dir, 'import') });
  assert.deepEqual(imp.failures, []);
  const header = await readNiftiHeader(imp.records[0].imagePath);
  await fakeRun(join(dir, 'run'), imp.manifestPath!, [
    { id: 'A1', mask: ellipsoid(header, [9, 8, 2], [5, 4, 1.2]) },
  ]);
  const res = await exportDicom({ runDir: join(dir, 'run'), outDir: join(dir, 'out') });
  assert.equal(res.studies[0].reference, 'new');
  assert.match(res.notes[0], /UIDs are missing or invalid/);
  const ct = await listDcm(res.studies[0].ctSeries[0]);
  for (const f of [ct[0], ...res.studies[0].seg, res.studies[0].sr]) assert.deepEqual(dciodvfyErrors(f), []);
  const c = checkSegSr(res.studies[0].seg[0], res.studies[0].sr, ct);
  await assertFramesOnMask(c, 1, join(dir, 'run', 'masks', 'A1.nii.gz'));
  assert.equal((await readDicomFile(ct[0])).dataset.PatientID, 'ANON7');
});
