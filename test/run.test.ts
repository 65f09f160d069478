/**
 * The main job end to end on a tiny phantom cohort: masks on the input grid, lesions.csv, report; the stage
 * runner's rule (reuse, rerun from a changed option, --force, another cohort refused); resume after kill -9
 * in the middle of an epoch with identical results; unreadable artifacts rerun their stage; a bad lesion is
 * reported without stopping the cohort. Each test runs on its own: the uninterrupted reference run is made
 * on first use.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadManifest, writeManifest } from '../src/io/manifest.js';
import { readNifti } from '../src/io/nifti.js';
import { writeCohort } from '../src/synth/write.js';
import { assertSameKeySlices } from './helpers/key-slices.js';
import { CLI, ROOT, spawnCli } from './helpers/spawn-cli.js';

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

const runCli = spawnCli;

let reference: Promise<string> | undefined;

/** The output folder of one uninterrupted run with FAST settings (made once, on first use). */
function referenceRun(): Promise<string> {
  reference ??= (async () => {
    const out = join(dir, 'reference');
    const r = runCli(['run', '--manifest', manifest, '--out', out, ...FAST]);
    assert.equal(r.status, 0, r.stderr);
    return out;
  })();
  return reference;
}

async function assertSameMasks(out: string, ref: string): Promise<void> {
  const names = await readdir(join(ref, 'masks'));
  assert.equal(names.length, 8);
  for (const m of names) {
    assert.deepEqual(
      await readFile(join(out, 'masks', m)),
      await readFile(join(ref, 'masks', m)),
      `mask ${m} differs`,
    );
  }
}

test('run writes a mask per lesion on the input grid, lesions.csv and a report; a rerun reuses every stage', async () => {
  const out = await referenceRun();
  const csv = (await readFile(join(out, 'lesions.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 1 + 8);
  assert.match(csv[0], /^lesion_id,.*volume_mm3,recist_ellipsoid_mm3/);
  const header = csv[0].split(',');
  for (const flag of [
    'qc_empty',
    'qc_key_threshold_lowered',
    'qc_ended_by_confidence',
    'qc_recist_mismatch',
  ]) {
    const col = header.indexOf(flag);
    assert.ok(col > 0, `${flag} column`);
    for (const line of csv.slice(1)) assert.match(line.split(',')[col], /^[01]$/, `${flag} of ${line}`);
  }
  // the RECIST ellipsoid is scored beside every mask (the phantom truth is present)
  for (const name of ['ellipsoid_dice_3d', 'ellipsoid_dice_key']) {
    const col = header.indexOf(name);
    assert.ok(col > 0, `${name} column`);
    for (const line of csv.slice(1)) {
      const v = Number(line.split(',')[col]);
      assert.ok(v > 0 && v <= 1, `${name} ${v}`);
    }
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
  assert.match(report, /Masks against the RECIST ellipsoid/);
  assert.match(report, /data:image\/png;base64/);
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  assert.ok(metrics.metrics3d.overall.stats.dice.mean > 0, 'the phantom truth is scored');
  const all = metrics.versusEllipsoid.find((r: { category: string }) => r.category === 'all');
  assert.equal(all.n, 8);
  assert.ok(all.dice3d[1] > 0.3 && all.dice3d[1] <= 1, `ellipsoid 3D Dice ${all.dice3d[1]}`);
  assert.equal(metrics.manifest, manifest);
  // the final model and its sidecar: what `segment --model` reads, with the real input layout
  const side = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
  assert.deepEqual(
    [side.input.roiScale, side.input.padMode, side.input.context, side.input.prior, side.net.size],
    [2, 'reflect', 0, 'none', 32],
  );
  // markers: versions, git revision, seed
  const marker = JSON.parse(await readFile(join(out, 'work', '.done-train-r0.json'), 'utf8'));
  assert.ok(marker.recist3d && marker.versions.torch && marker.versions.node && marker.gitRevision);
  assert.equal(marker.seed, 0);
  // rerun: every stage is reused and the masks are byte-identical
  const copy = join(dir, 'rerun-copy');
  spawnSync('cp', ['-a', out, copy]);
  const r2 = runCli(['run', '--manifest', manifest, '--out', copy, ...FAST]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.doesNotMatch(r2.stderr, /\[train-r\d\] finished in/);
  assert.match(r2.stderr, /\[train-r1\] finished earlier .*; reused/);
  await assertSameMasks(copy, out);
});

test('a changed option reruns from the stage it changes and says why; --force starts over', async () => {
  const ref = await referenceRun();
  const out = join(dir, 'changed');
  spawnSync('cp', ['-a', ref, out]);
  const more = FAST.map((a, i) => (FAST[i - 1] === '--fine-tune-epochs' ? '3' : a));
  const r = runCli(['run', '--manifest', manifest, '--out', out, ...more, '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[train-r0\] finished earlier .*; reused/);
  assert.match(r.stderr, /\[labels-r1\] finished earlier .*; reused/);
  assert.match(r.stderr, /\[train-r1\] runs again: fit\.maxEpochs 2 -> 3/);
  const f = runCli(['run', '--manifest', manifest, '--out', out, ...FAST, '--no-report', '--force']);
  assert.equal(f.status, 0, f.stderr);
  assert.match(f.stderr, /\[train-r0\] finished in/);
  assert.doesNotMatch(f.stderr, /reused/);
  await assertSameMasks(out, ref);
});

test('a folder that holds another cohort is refused with E_CONFIG before any training', async () => {
  const ref = await referenceRun();
  const out = join(dir, 'other-cohort');
  spawnSync('cp', ['-a', ref, out]);
  const lines = (await readFile(manifest, 'utf8')).trim().split('\n');
  const fewer = join(dir, 'cohort', 'fewer.csv');
  await writeFile(fewer, lines.slice(0, -1).join('\n') + '\n');
  const r = runCli(['run', '--manifest', fewer, '--out', out, ...FAST]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /E_CONFIG: .*another cohort.*--force.*cohort\.json/);
  await assertSameMasks(out, ref);
});

test('kill -9 in the middle of a self-paced round, then rerun: resumes at its last epoch, same masks', async () => {
  const ref = await referenceRun();
  const out = join(dir, 'killed');
  const child = spawn(process.execPath, [...CLI, 'run', '--manifest', manifest, '--out', out, ...FAST], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    stdio: 'ignore',
  });
  // wait until round 1 has finished an epoch (its per-epoch checkpoint exists), then kill hard
  const last = join(out, 'rounds', 'round1.last.json');
  const t0 = Date.now();
  while (!existsSync(last) && Date.now() - t0 < 300_000) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(last), 'round 1 trained an epoch in time');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(!existsSync(join(out, 'work', '.done-train-r1.json')), 'killed before round 1 finished');
  const r = runCli(['run', '--manifest', manifest, '--out', out, ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[train-r0\] finished earlier .*; reused/, 'round 0 was not retrained');
  assert.match(r.stderr, /\[train-r1\] resumed after epoch 1/);
  await assertSameMasks(out, ref);
});

test('unreadable artifacts (a truncated label store, a corrupt model sidecar) rerun their stage; nothing is lost', async () => {
  const ref = await referenceRun();
  const out = join(dir, 'corrupt');
  spawnSync('cp', ['-a', ref, out]);
  await truncate(join(out, 'work', 'labels-r1.bin'), 100);
  await writeFile(join(out, 'rounds', 'round0.json'), '{"format": "recist3d-checkpoint-1", "net": ');
  const r = runCli(['run', '--manifest', manifest, '--out', out, ...FAST, '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stderr,
    /\[train-r0\] runs again: its artifacts are unreadable \(.*E_CHECKPOINT|\[train-r0\] runs again: its artifacts are unreadable/,
  );
  assert.match(r.stderr, /\[labels-r1\] runs again/);
  await assertSameMasks(out, ref);
  // `segment` refuses a model with a corrupt sidecar with a clear error naming the file
  await writeFile(join(out, 'model.json'), 'not json');
  const s = runCli(['segment', '--model', out, '--manifest', manifest, '--out', join(dir, 'seg-bad')]);
  assert.equal(s.status, 1);
  assert.match(s.stderr, /E_CHECKPOINT: .*model\.json/);
});

test('segment with the model of a run gives the same RECIST-slice mask as run (one key-slice path)', async () => {
  const ref = await referenceRun();
  const seg = join(dir, 'seg');
  const r = runCli(['segment', '--model', ref, '--manifest', manifest, '--out', seg]);
  assert.equal(r.status, 0, r.stderr);
  await assertSameKeySlices(ref, seg, manifest);
});

test('--labels full: a lesion whose mask cannot be read is left out of training and reported; the others finish', async () => {
  const records = await loadManifest(manifest);
  const badId = records[0].lesionId;
  const m = join(dir, 'cohort', 'full-bad.csv');
  const corrupt = join(dir, 'cohort', 'corrupt-mask.nii.gz');
  await writeFile(corrupt, 'not a NIfTI file');
  await writeManifest(m, [{ ...records[0], maskPath: corrupt }, ...records.slice(1)]);
  const out = join(dir, 'full');
  const r = runCli([
    'run',
    '--manifest',
    m,
    '--out',
    out,
    ...FAST,
    '--rounds',
    '0',
    '--labels',
    'full',
    '--no-report',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`lesion ${badId} left out of training \\(--labels full\\)`));
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(
    metrics.excludedFromTraining.map((x: { lesionId: string }) => x.lesionId),
    [badId],
  );
  assert.equal((await readdir(join(out, 'masks'))).length, 8, 'every lesion is still segmented');
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
