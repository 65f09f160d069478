import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
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
