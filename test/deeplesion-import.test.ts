import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { encode } from 'fast-png';
import { DL_INFO_COLUMNS } from '../src/io/deeplesion.js';
import { importDeepLesion } from '../src/io/import-deeplesion.js';
import { loadManifest } from '../src/io/manifest.js';
import { readNifti } from '../src/io/nifti.js';
import { readPng16 } from '../src/io/png16.js';
import { sharedData, skipReason } from './helpers/shared-data.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '..');
const dir = await mkdtemp(join(tmpdir(), 'recist3d-dlimp-'));
test.after(() => rm(dir, { recursive: true, force: true }));

test('imports the 38 real DL_info rows to NIfTI + manifest with HU and spacing intact', async (t) => {
  const info = sharedData('deeplesion', 'DL_info.csv');
  const images = sharedData('deeplesion', 'Images_png');
  if (!info || !images) return t.skip(skipReason('deeplesion'));
  const res = await importDeepLesion({ dlInfo: info, imagesDir: images, outDir: join(dir, 'dl') });
  assert.equal(res.records.length, 38);
  assert.equal(res.failures.length, 0);
  const recs = await loadManifest(res.manifestPath);
  assert.equal(recs.length, 38);
  const r = recs.find((x) => x.lesionId === '002648_01_01_061')!;
  assert.equal(r.category, 'liver');
  assert.equal(r.split, 'val');
  assert.deepEqual(r.window, [-175, 275]);
  const vol = await readNifti(r.imagePath);
  assert.ok(vol.data instanceof Int16Array);
  assert.ok(Math.abs(vol.spacingMm[0] - 0.898438) < 1e-6 && vol.spacingMm[2] === 5);
  const png = await readPng16(join(images, '002648_01_01', '061.png'));
  const plane = vol.size[0] * vol.size[1];
  assert.deepEqual(vol.data.subarray(r.keySlice * plane, (r.keySlice + 1) * plane), png.hu);
});

test('CLI: rows without images are skipped and listed, the rest imported', async (t) => {
  const info = sharedData('deeplesion', 'DL_info_test_split.csv');
  const images = sharedData('deeplesion', 'Images_png');
  if (!info || !images) return t.skip(skipReason('deeplesion'));
  const out = join(dir, 'cli');
  const r = await run(
    'node',
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'import-deeplesion',
      '--dl-info',
      info,
      '--images',
      images,
      '--out',
      out,
    ],
    { cwd: repo, maxBuffer: 1 << 24 },
  );
  const m = /imported (\d+) lesion\(s\) into \d+ volume\(s\), (\d+) skipped/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]) + Number(m[2]), 4927);
  assert.ok(Number(m[1]) > 0);
  assert.match(r.stderr, /E_FILE_NOT_FOUND Key slice PNG not found/);
  const failures = (await readFile(join(out, 'import-failures.csv'), 'utf8')).trim().split('\n');
  assert.equal(failures.length - 1, Number(m[2]));
  assert.equal((await loadManifest(join(out, 'manifest.csv'))).length, Number(m[1]));
  const help = await run('node', ['--import', 'tsx', 'src/cli/main.ts', 'import-deeplesion', '--help'], {
    cwd: repo,
  });
  assert.match(help.stdout, /--dl-info/);
});

test('import validates DICOM_windows per row: a reversed window skips that row only, and the manifest loads', async () => {
  const root = join(dir, 'reversed');
  const series = join(root, 'Images_png', '000001_01_01');
  await mkdir(series, { recursive: true });
  const png = encode({
    width: 512,
    height: 512,
    data: new Uint16Array(512 * 512).fill(32768 - 50),
    depth: 16,
    channels: 1,
  });
  await writeFile(join(series, '109.png'), png);
  const row =
    '000001_01_01_109.png,1,1,1,109,"233.537, 95.0204, 234.057, 106.977, 231.169, 101.605, 236.252, 101.143",' +
    '"226.169, 90.0204, 241.252, 111.977","11.9677, 5.10387","0.44666, 0.283794, 0.434454",3,0,"109, 109",' +
    '"0.488281, 0.488281, 5","512, 512",WINDOW,F,62.0,3';
  const info = join(root, 'DL_info.csv');
  await writeFile(
    info,
    [
      DL_INFO_COLUMNS.join(','),
      row.replace('WINDOW', '"-175, 275"'),
      row.replace('WINDOW', '"275, -175"'),
      '',
    ].join('\n'),
  );
  const res = await importDeepLesion({
    dlInfo: info,
    imagesDir: join(root, 'Images_png'),
    outDir: join(root, 'out'),
  });
  assert.equal(res.records.length, 1);
  assert.deepEqual(
    res.failures.map((f) => [f.row, f.code, f.message]),
    [[3, 'E_DEEPLESION_ROW', 'DICOM_windows: expected "min, max" HU with min < max, got "275, -175"']],
  );
  const recs = await loadManifest(res.manifestPath);
  assert.deepEqual(
    recs.map((r) => [r.lesionId, r.window]),
    [['000001_01_01_109', [-175, 275]]],
  );
});
