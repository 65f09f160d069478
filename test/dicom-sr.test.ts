import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { importDicom } from '../src/dicom/import.js';
import { encodeDicom, readDicomFile } from '../src/dicom/part10.js';
import { loadManifest } from '../src/io/manifest.js';
import { readNiftiHeader } from '../src/io/nifti.js';
import { existsSync } from 'node:fs';
import { sidecarPathFor } from '../src/dicom/sidecar.js';
import type { PointIJ, Recist } from '../src/types/recist.js';
import { writeTestSeries } from './helpers/dicom.js';
import { cornerstoneSr } from './helpers/cornerstone-sr.js';

const root = await mkdtemp(join(tmpdir(), 'recist3d-dicom-sr-'));
test.after(() => rm(root, { recursive: true, force: true }));
let seq = 0;
const fresh = () => join(root, `case${++seq}`);

// RECIST on slice 5 in voxel coordinates (pixel centres at integers): perpendicular axes
const expected: Recist = {
  long: [
    [10, 12],
    [30, 20],
  ],
  short: [
    [17, 23.5],
    [23, 8.5],
  ],
};
const K = 5;
const image = (p: PointIJ) => ({ x: p[0] + 0.5, y: p[1] + 0.5 }); // DICOM: pixel corner at 0
const liver = { CodeValue: '10200004', CodingSchemeDesignator: 'SCT', CodeMeaning: 'Liver' };

function assertRecist(actual: Recist, want: Recist) {
  const flat = (r: Recist) => [...r.long.flat(), ...r.short.flat()];
  flat(actual).forEach((v, x) =>
    assert.ok(Math.abs(v - flat(want)[x]) < 1e-3, `coordinate ${x}: ${v} vs ${flat(want)[x]}`),
  );
}

async function seriesWithSr(place: 'sr-flag' | 'in-folder', threeD = false) {
  const dir = fresh();
  const s = await writeTestSeries(join(dir, 'ct'), {
    size: [40, 36, 8],
    patientId: 'PAT9',
    studyDate: '20230405',
  });
  const source = (await readDicomFile(s.files[0])).dataset;
  const ps = [0.8, 0.7]; // rows, columns (writeTestSeries default), axial orientation
  const lps = (p: PointIJ) => {
    const q = s.positions[K];
    return { x: q[0] + p[0] * ps[1], y: q[1] + p[1] * ps[0], z: q[2] };
  };
  const m = threeD
    ? {
        long: expected.long.map(lps),
        short: expected.short.map(lps),
        frameOfReferenceUid: s.frameOfReferenceUid,
      }
    : { long: expected.long.map(image), short: expected.short.map(image), sopInstanceUid: s.sopUids[K] };
  const sr = cornerstoneSr(source, [
    { ...m, findingSite: liver } as Parameters<typeof cornerstoneSr>[1][number],
  ]);
  const srFile = place === 'sr-flag' ? join(dir, 'sr.dcm') : join(dir, 'ct', 'zz-sr.dcm');
  await writeFile(srFile, encodeDicom(sr));
  return { dir, s, srFile };
}

test('a Cornerstone3D-style SR (2D SCOORD): RECIST lands on the referenced slice, half a pixel shifted to voxel centres', async () => {
  const { dir, s, srFile } = await seriesWithSr('sr-flag');
  const res = await importDicom({ series: [join(dir, 'ct')], sr: [srFile], outDir: join(dir, 'out') });
  assert.deepEqual(res.failures, []);
  assert.equal(res.records.length, 1);
  const rows = await loadManifest(res.manifestPath!, { checkImages: true });
  const r = rows[0];
  assert.equal(r.keySlice, K);
  assertRecist(r.recist, expected);
  assert.equal(r.category, 'liver');
  assert.equal(r.patientId, 'PAT9');
  assert.equal(r.studyDate, '20230405');
  const h = await readNiftiHeader(r.imagePath);
  assert.deepEqual(h.size, [40, 36, 8]);
  assert.ok(existsSync(sidecarPathFor(r.imagePath)), 'sidecar beside the NIfTI');
  assert.equal(res.series[0].seriesInstanceUid, s.seriesUid);
});

test('an SR inside the series folder is found without --sr', async () => {
  const { dir } = await seriesWithSr('in-folder');
  const res = await importDicom({ series: [join(dir, 'ct')], outDir: join(dir, 'out') });
  assert.deepEqual(res.failures, []);
  assert.equal(res.records.length, 1);
  assertRecist(res.records[0].recist, expected);
});

test('SCOORD3D (patient coordinates): projected onto the grid, same RECIST and slice', async () => {
  const { dir, srFile } = await seriesWithSr('sr-flag', true);
  const res = await importDicom({ series: [join(dir, 'ct')], sr: [srFile], outDir: join(dir, 'out') });
  assert.deepEqual(res.failures, []);
  assert.equal(res.records[0].keySlice, K);
  assertRecist(res.records[0].recist, expected);
});

test('a measurement on an image of no imported series is reported naming the SR; the good one imports', async () => {
  const dir = fresh();
  const s = await writeTestSeries(join(dir, 'ct'), { size: [40, 36, 8] });
  const source = (await readDicomFile(s.files[0])).dataset;
  const sr = cornerstoneSr(source, [
    { long: expected.long.map(image), short: expected.short.map(image), sopInstanceUid: s.sopUids[2] },
    { long: expected.long.map(image), short: expected.short.map(image), sopInstanceUid: '1.2.3.4.5' },
  ]);
  const srFile = join(dir, 'sr.dcm');
  await writeFile(srFile, encodeDicom(sr));
  const res = await importDicom({ series: [join(dir, 'ct')], sr: [srFile], outDir: join(dir, 'out') });
  assert.equal(res.records.length, 1);
  assert.equal(res.records[0].keySlice, 2);
  assert.equal(res.failures.length, 1);
  assert.equal(res.failures[0].code, 'E_DICOM_REFERENCE');
  assert.equal(res.failures[0].file, srFile);
  assert.match(res.failures[0].message, /1\.2\.3\.4\.5, which is in no imported series/);
  assert.ok(existsSync(res.failuresPath!));
});

test('a manifest whose image column names the series folder (or its SeriesInstanceUID) is rewritten to the NIfTI', async () => {
  const dir = fresh();
  const a = await writeTestSeries(join(dir, 'a'), { size: [30, 30, 6] });
  const b = await writeTestSeries(join(dir, 'b'), { size: [30, 30, 5] });
  const manifest = join(dir, 'marks.csv');
  await writeFile(
    manifest,
    'lesion_id,image,key_slice,recist,category\n' +
      `L1,${relative(dir, a.dir)},3,"10,12,20,16,13,17,17,11",lung\n` +
      `L2,${b.seriesUid},1,"5,5,15,5,10,2,10,8",kidney\n` +
      `L3,nowhere,1,"5,5,15,5,10,2,10,8",kidney\n`,
  );
  const res = await importDicom({ series: [a.dir, b.dir], manifest, outDir: join(dir, 'out') });
  assert.deepEqual(
    res.records.map((r) => r.lesionId),
    ['L1', 'L2'],
  );
  assert.equal(res.failures.length, 1);
  assert.match(res.failures[0].message, /row 4: image .*nowhere is neither/);
  const rows = await loadManifest(res.manifestPath!, { checkImages: true });
  assert.equal((await readNiftiHeader(rows[0].imagePath)).size[2], 6);
  assert.equal((await readNiftiHeader(rows[1].imagePath)).size[2], 5);
  assert.deepEqual(rows[0].recist.long, [
    [10, 12],
    [20, 16],
  ]);
});

test('older SRs coded with SRT (G-A185 / G-A186, as OHIF v2 wrote them) are read too', async () => {
  const dir = fresh();
  const s = await writeTestSeries(join(dir, 'ct'), { size: [40, 36, 8] });
  const source = (await readDicomFile(s.files[0])).dataset;
  const sr = cornerstoneSr(source, [
    { long: expected.long.map(image), short: expected.short.map(image), sopInstanceUid: s.sopUids[K] },
  ]);
  const old: Record<string, string> = { '103339001': 'G-A185', '103340004': 'G-A186' };
  let replaced = 0;
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) return x.forEach(walk);
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (typeof o.CodeValue === 'string' && old[o.CodeValue]) {
      o.CodeValue = old[o.CodeValue];
      o.CodingSchemeDesignator = 'SRT';
      o.CodeMeaning = 'axis'; // only the code identifies it
      replaced++;
    }
    Object.values(o).forEach(walk);
  };
  walk(sr.ContentSequence);
  assert.equal(replaced, 2);
  const srFile = join(dir, 'old.dcm');
  await writeFile(srFile, encodeDicom(sr));
  const res = await importDicom({ series: [join(dir, 'ct')], sr: [srFile], outDir: join(dir, 'out') });
  assert.deepEqual(res.failures, []);
  assertRecist(res.records[0].recist, expected);
});
