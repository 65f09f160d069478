import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDlInfo, parseDlInfoText, DL_INFO_COLUMNS } from '../src/io/deeplesion.js';
import { loadDeepLesionVolume, deepLesionKeySlice } from '../src/io/deeplesion-volume.js';
import { readPng16 } from '../src/io/png16.js';
import { validateRecist } from '../src/recist/validate.js';
import { isRecist3dError } from '../src/errors.js';
import { encode } from 'fast-png';
import { sharedData, skipReason } from './helpers/shared-data.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-dl-'));
test.after(() => rm(dir, { recursive: true, force: true }));

const HEADER = DL_INFO_COLUMNS.join(',');
const GOOD =
  '000001_01_01_109.png,1,1,1,109,"233.537, 95.0204, 234.057, 106.977, 231.169, 101.605, 236.252, 101.143",' +
  '"226.169, 90.0204, 241.252, 111.977","11.9677, 5.10387","0.44666, 0.283794, 0.434454",3,0,"103, 115",' +
  '"0.488281, 0.488281, 5","512, 512","-175, 275",F,62.0,3';

test('parses a hand-written row with every field typed', () => {
  const rows = parseDlInfoText(`${HEADER},Extra\n${GOOD},whatever\n${GOOD},x\n`, 'mem.csv');
  assert.equal(rows.length, 2);
  const r = rows[0];
  assert.equal(r.lesionId, '000001_01_01_109');
  assert.equal(rows[1].lesionId, '000001_01_01_109_2', 'second lesion on the same slice gets a suffix');
  assert.equal(r.seriesDir, '000001_01_01');
  assert.equal(r.keySliceIndex, 109);
  assert.deepEqual(r.recist.long, [
    [233.537, 95.0204],
    [234.057, 106.977],
  ]);
  assert.deepEqual(r.boundingBox, [226.169, 90.0204, 241.252, 111.977]);
  assert.deepEqual(r.lesionDiametersPx, [11.9677, 5.10387]);
  assert.deepEqual(r.normalizedLocation, [0.44666, 0.283794, 0.434454]);
  assert.equal(r.category, 'mediastinum');
  assert.equal(r.possiblyNoisy, false);
  assert.deepEqual(r.sliceRange, [103, 115]);
  assert.deepEqual(r.spacingMm, [0.488281, 0.488281, 5]);
  assert.deepEqual(r.imageSize, [512, 512]);
  assert.deepEqual(r.dicomWindow, [-175, 275]);
  assert.equal(r.patientGender, 'F');
  assert.equal(r.patientAge, 62);
  assert.equal(r.split, 'test');
  assert.equal(r.row, 2);
});

test('bad rows: 7 coordinates, NaN spacing, type 9 -> one error listing rows and fields', () => {
  const seven = GOOD.replace(', 236.252, 101.143"', ', 236.252"');
  const nanSpacing = GOOD.replace('"0.488281, 0.488281, 5"', '"0.488281, NaN, 5"');
  const badType = GOOD.replace(',3,0,"103', ',9,0,"103');
  const text = [HEADER, GOOD, seven, nanSpacing, badType].join('\n');
  assert.throws(
    () => parseDlInfoText(text, 'DL_bad.csv'),
    (e) => {
      assert.ok(isRecist3dError(e, 'E_DEEPLESION_ROW'));
      assert.match(e.message, /3 bad row/);
      assert.match(e.message, /row 3, field Measurement_coordinates: expected 8/);
      assert.match(e.message, /row 4, field Spacing_mm_px_/);
      assert.match(e.message, /row 5, field Coarse_lesion_type/);
      assert.match(e.message, /DL_bad\.csv/);
      return true;
    },
  );
  const issues: string[] = [];
  const ok = parseDlInfoText(text, 'DL_bad.csv', {
    skipInvalid: true,
    onIssue: (i) => issues.push(`${i.row}:${i.field}`),
  });
  assert.equal(ok.length, 1);
  assert.deepEqual(issues, ['3:Measurement_coordinates', '4:Spacing_mm_px_', '5:Coarse_lesion_type']);
  assert.throws(
    () => parseDlInfoText('File_name,Key_slice_index\nx.png,1\n', 'h.csv'),
    (e) => isRecist3dError(e, 'E_DEEPLESION_ROW') && e.context.row === 1,
  );
});

test('reversed DICOM_windows and short-first axes: the row is refused, or reordered with a warning, naming row and field', () => {
  const reversed = GOOD.replace('"-175, 275"', '"275, -175"');
  const shortFirst = GOOD.replace(
    '"233.537, 95.0204, 234.057, 106.977, 231.169, 101.605, 236.252, 101.143"',
    '"231.169, 101.605, 236.252, 101.143, 233.537, 95.0204, 234.057, 106.977"',
  );
  const issues: string[] = [];
  const warnings: string[] = [];
  const rows = parseDlInfoText([HEADER, GOOD, reversed, shortFirst].join('\n'), 'DL.csv', {
    skipInvalid: true,
    onIssue: (i) => issues.push(`${i.row}:${i.field}:${i.reason}`),
    onWarning: (w) => warnings.push(`${w.row}:${w.field}`),
  });
  assert.deepEqual(issues, ['3:DICOM_windows:expected "min, max" HU with min < max, got "275, -175"']);
  assert.deepEqual(warnings, ['4:Measurement_coordinates']);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1].recist, rows[0].recist, 'the swapped row reads like the good one');
  assert.deepEqual(rows[1].measurementCoordinates.slice(0, 2), [231.169, 101.605], 'raw numbers kept');
});

test('parses all 4,927 rows of the real test split; every RECIST lies inside its image and is non-degenerate', async (t) => {
  const f = sharedData('deeplesion', 'DL_info_test_split.csv');
  if (!f) return t.skip(skipReason('deeplesion', 'DL_info_test_split.csv'));
  const swapped: number[] = [];
  const rows = await parseDlInfo(f, { onWarning: (w) => swapped.push(w.row) });
  assert.equal(rows.length, 4927);
  assert.equal(new Set(rows.map((r) => r.lesionId)).size, 4927, 'lesion ids unique');
  const types = new Set(rows.map((r) => r.coarseLesionType));
  assert.deepEqual([...types].sort(), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(rows.every((r) => r.split === 'test'));
  let maxRelErr = 0;
  const skewed: string[] = [];
  for (const r of rows) {
    let m;
    try {
      m = validateRecist(r.recist, r.imageSize, [1, 1], { row: r.row, lesionId: r.lesionId });
    } catch (e) {
      // a real row may have axes drawn far from perpendicular, or not crossing; nothing else may fail
      assert.ok(isRecist3dError(e, 'E_RECIST_INVALID') && /degrees|do not cross/.test(e.message), String(e));
      skewed.push(r.lesionId);
      continue;
    }
    // the long axis we measure is the longer of DeepLesion's own Lesion_diameters_Pixel_ (the parser puts the
    // longer axis first; DeepLesion lists it second in 26 rows)
    const longPx = Math.max(...r.lesionDiametersPx);
    maxRelErr = Math.max(maxRelErr, Math.abs(m.longMm - longPx) / longPx);
  }
  assert.ok(maxRelErr < 1e-3, `long-axis relative error ${maxRelErr}`);
  assert.equal(swapped.length, 26, 'rows whose second axis is the longer');
  assert.ok(skewed.length < rows.length / 250, `skewed or non-crossing RECIST: ${skewed.join(' ')}`);
});

test('loads the real key slices: 38 DL_info rows as volumes, all 47 PNGs as HU', async (t) => {
  const info = sharedData('deeplesion', 'DL_info.csv');
  const images = sharedData('deeplesion', 'Images_png');
  if (!info || !images) return t.skip(skipReason('deeplesion'));
  const rows = await parseDlInfo(info);
  assert.equal(rows.length, 38);
  for (const r of rows) {
    const vol = await loadDeepLesionVolume(r, images);
    assert.deepEqual(vol.size.slice(0, 2), r.imageSize);
    assert.deepEqual(vol.spacingMm, r.spacingMm);
    const k = deepLesionKeySlice(vol);
    assert.ok(k >= 0 && k < vol.size[2]);
    // HU sanity at the lesion centre (liver lesions: soft tissue, not air/bone) and in the corner (air)
    const [cx, cy] = [
      Math.round((r.boundingBox[0] + r.boundingBox[2]) / 2),
      Math.round((r.boundingBox[1] + r.boundingBox[3]) / 2),
    ];
    const plane = vol.size[0] * vol.size[1];
    const hu = vol.data[k * plane + cx + vol.size[0] * cy];
    assert.ok(hu > -200 && hu < 400, `${r.fileName} centre HU ${hu}`);
  }
  let pngs = 0;
  for (const series of await readdir(images))
    for (const f of await readdir(join(images, series))) {
      const s = await readPng16(join(images, series, f));
      assert.equal(s.hu.length, s.width * s.height);
      let min = Infinity;
      for (const v of s.hu) if (v < min) min = v;
      assert.ok(min <= -1000, `${series}/${f} has air or padding (min ${min})`);
      pngs++;
    }
  assert.equal(pngs, 47);
});

test('a truncated or non-16-bit PNG gives E_PNG_CORRUPT naming the file; missing key slice names the path', async () => {
  // a generated 64x48 16-bit slice: a -1000 HU background with a +40 HU square
  const w = 64;
  const h = 48;
  const raw = new Uint16Array(w * h).fill(32768 - 1000);
  for (let y = 10; y < 20; y++) for (let x = 20; x < 30; x++) raw[x + w * y] = 32768 + 40;
  const src = join(dir, 'good.png');
  await writeFile(src, encode({ width: w, height: h, data: raw, depth: 16, channels: 1 }));
  const good = await readPng16(src);
  assert.equal(good.hu[0], -1000);
  assert.equal(good.hu[25 + w * 15], 40);
  const bytes = await readFile(src);
  const p = join(dir, 'trunc.png');
  await writeFile(p, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(
    readPng16(p),
    (e) => isRecist3dError(e, 'E_PNG_CORRUPT') && /trunc\.png/.test(e.message),
  );
  const q = join(dir, 'garbage.png');
  const g = Buffer.from(bytes);
  for (let i = 60; i < g.length - 20; i++) g[i] ^= 0xff; // inside IHDR/IDAT, IEND kept
  await writeFile(q, g);
  await assert.rejects(
    readPng16(q),
    (e) => isRecist3dError(e, 'E_PNG_CORRUPT') && /garbage\.png/.test(e.message),
  );

  const eight = join(dir, 'eight.png');
  await writeFile(eight, encode({ width: 4, height: 4, data: new Uint8Array(16), depth: 8, channels: 1 }));
  await assert.rejects(
    readPng16(eight),
    (e) => isRecist3dError(e, 'E_PNG_CORRUPT') && /16-bit/.test(e.message),
  );

  // a series with the key slice truncated: the loader surfaces E_PNG_CORRUPT with the slice path
  const info = parseDlInfoText(
    `${HEADER}\n${GOOD.replace(/000001_01_01_109/, '000016_02_01_253')
      .replace('109,', '253,')
      .replace('"103, 115"', '"250, 256"')
      .replace('"512, 512"', '"64, 48"')}`,
    'm.csv',
  );
  const series = join(dir, 'imgs', '000016_02_01');
  await mkdir(series, { recursive: true });
  await copyFile(p, join(series, '253.png'));
  await assert.rejects(
    loadDeepLesionVolume(info[0], join(dir, 'imgs')),
    (e) => isRecist3dError(e, 'E_PNG_CORRUPT') && /253\.png/.test(e.message),
  );
  await assert.rejects(
    loadDeepLesionVolume(info[0], join(dir, 'none')),
    (e) => isRecist3dError(e, 'E_FILE_NOT_FOUND') && /253\.png/.test(e.message),
  );
  // a good copy with a neighbour slice: both are assembled in slice order
  await copyFile(src, join(series, '253.png'));
  await copyFile(src, join(series, '254.png'));
  const vol = await loadDeepLesionVolume(info[0], join(dir, 'imgs'));
  assert.equal(vol.size[2], 2);
  assert.equal(deepLesionKeySlice(vol), 0);
});
