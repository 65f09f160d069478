/**
 * The main job end to end on a tiny phantom cohort: masks on the input grid, lesions.csv, report, resume
 * after kill -9 with identical results, and a bad lesion that is reported without stopping the cohort.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { readNifti } from '../src/io/nifti.js';
import { writeCohort } from '../src/synth/write.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
// tiny but real: 32 px ROIs, a narrow net, few epochs; 2 threads like CI
const FAST = [
  '--rounds',
  '1',
  '--epochs',
  '3',
  '--fine-tune-epochs',
  '2',
  '--roi-size',
  '32',
  '--base-width',
  '8',
  '--arch',
  'unet',
];

let dir: string;
let manifest: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recist3d-run-'));
  const cohort = await writeCohort(join(dir, 'cohort'), { lesions: 8, seed: 3 });
  manifest = cohort.manifestPath;
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function runCli(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
}

test('run writes a mask per lesion on the input grid, lesions.csv and a report; a rerun resumes', async () => {
  const out = join(dir, 'out1');
  const r = runCli(['run', '--manifest', manifest, '--out', out, ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  const csv = (await readFile(join(out, 'lesions.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 1 + 8);
  assert.match(csv[0], /^lesion_id,.*volume_mm3,recist_ellipsoid_mm3/);
  const header = csv[0].split(',');
  for (const flag of ['qc_empty', 'qc_key_threshold_lowered', 'qc_ended_by_confidence']) {
    const col = header.indexOf(flag);
    assert.ok(col > 0, `${flag} column`);
    for (const line of csv.slice(1)) assert.match(line.split(',')[col], /^[01]$/, `${flag} of ${line}`);
  }
  const masks = await readdir(join(out, 'masks'));
  assert.equal(masks.length, 8);
  // every mask on exactly its image's grid
  for (const line of csv.slice(1, 3)) {
    const id = line.split(',')[0];
    const image = await readNifti(join(dir, 'cohort', 'images', `${id}.nii.gz`));
    const mask = await readNifti(join(out, 'masks', `${id}.nii.gz`));
    assert.deepEqual(mask.size, image.size);
    assert.deepEqual(mask.spacingMm, image.spacingMm);
    assert.deepEqual(mask.origin, image.origin);
    assert.ok(mask.data instanceof Uint8Array);
  }
  const report = await readFile(join(out, 'report.html'), 'utf8');
  assert.match(report, /<svg/);
  assert.match(report, /data:image\/png;base64/);
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  assert.ok(metrics.metrics3d.overall.stats.dice.mean > 0, 'the phantom truth is scored');
  assert.equal(
    metrics.manifest,
    resolve(manifest),
    'metrics.json names the manifest (export-dicom reads it)',
  );
  // rerun: every training stage is skipped (resumed) and the masks are byte-identical
  const before = await readFile(join(out, 'masks', masks[0]));
  const r2 = runCli(['run', '--manifest', manifest, '--out', out, ...FAST]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.doesNotMatch(r2.stderr, /\[train-r0\] finished/);
  assert.deepEqual(await readFile(join(out, 'masks', masks[0])), before);
});

test('kill -9 during training, then rerun: resumes and gives the same masks as an uninterrupted run', async () => {
  const out = join(dir, 'killed');
  const child = spawn(process.execPath, [...CLI, 'run', '--manifest', manifest, '--out', out, ...FAST], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    stdio: 'ignore',
  });
  // wait until round 0 is finished (its marker exists), then kill hard during round 1
  const marker = join(out, 'work', '.done-train-r0.json');
  const t0 = Date.now();
  while (!existsSync(marker) && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
  assert.ok(existsSync(marker), 'round 0 finished in time');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(!existsSync(join(out, 'lesions.csv')), 'killed before the end');
  const r = runCli(['run', '--manifest', manifest, '--out', out, ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /\[train-r0\] finished/, 'round 0 was not retrained');
  const ref = join(dir, 'out1', 'masks');
  for (const m of await readdir(ref)) {
    assert.deepEqual(
      await readFile(join(out, 'masks', m)),
      await readFile(join(ref, m)),
      `mask ${m} differs`,
    );
  }
});

test('a lesion with a RECIST outside its image is reported and the others finish', async () => {
  const text = (await readFile(manifest, 'utf8')).trim().split('\n');
  // move the first lesion's RECIST far outside the image
  const cells = text[1].split(',');
  const recistStart = cells.findIndex((c) => c.startsWith('"'));
  cells[recistStart] = '"9000';
  text[1] = cells.join(',');
  const bad = join(dir, 'cohort', 'bad.csv');
  await writeFile(bad, text.join('\n') + '\n');
  const out = join(dir, 'bad');
  const r = runCli(['run', '--manifest', bad, '--out', out, ...FAST, '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  const csv = (await readFile(join(out, 'lesions.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 1 + 8);
  const failed = csv.filter((l) => l.includes(',failed,'));
  assert.equal(failed.length, 1);
  assert.match(failed[0], /E_RECIST_OUTSIDE/);
  assert.equal((await readdir(join(out, 'masks'))).length, 7);
});
