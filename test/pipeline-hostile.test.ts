/**
 * One bad lesion never stops the cohort (issue 13 items 1, 7, 9, 16, 18): with hostile images in the manifest
 * (vox_offset NaN, all +Inf, a NaN block, RECIST axes that do not cross) `masks`, `eval`, `segment` and `run`
 * finish, report each bad lesion with its code, keep the good lesions' results and exit cleanly; `run` with
 * no lesion left to train on says so and why.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isRecist3dError } from '../src/errors.js';
import { registerEval } from '../src/cli/commands/eval.js';
import { registerMasks } from '../src/cli/commands/masks.js';
import { registerRun } from '../src/cli/commands/run.js';
import { registerSegment } from '../src/cli/commands/segment.js';
import { writeManifest } from '../src/io/manifest.js';
import { SegNet } from '../src/model/binding.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { runCliWithStderr } from './helpers/cli.js';
import { makeHostileCohort, type HostileCohort } from './helpers/hostile-cohort.js';
import { NIFTI_OFFSETS } from './helpers/nifti-bytes.js';
import { PLAIN_INPUT } from './helpers/checkpoint-input.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-hostile-'));
test.after(() => rm(dir, { recursive: true, force: true }));
const cohort: HostileCohort = await makeHostileCohort(dir);
const FAST = ['--rounds', '0', '--epochs', '2', '--roi-size', '32', '--arch', 'unet', '--no-report'];

/** `masks` on the hostile cohort into `out` (64 px ROIs), checked to exit cleanly. */
function masks(out: string, ...extra: string[]) {
  return clean(registerMasks, [
    'masks',
    '--manifest',
    cohort.manifest,
    '--out',
    out,
    '--size',
    '64',
    ...extra,
  ]);
}

/** CSV rows keyed by their first cell. */
async function csvById(path: string): Promise<Map<string, string>> {
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  return new Map(lines.slice(1).map((l) => [l.split(',')[0], l]));
}

/** Runs a command and checks it did not set a failing exit code. */
async function clean(...args: Parameters<typeof runCliWithStderr>) {
  process.exitCode = undefined;
  const r = await runCliWithStderr(...args);
  assert.ok(!process.exitCode, `exit code ${process.exitCode}`);
  return r;
}

test('masks: every hostile lesion fails with its code, the good ones get masks, masks.csv is fresh', async () => {
  const out = join(dir, 'masks');
  await mkdir(out);
  // an earlier run's masks.csv and a mask of a lesion that is not in this manifest
  await writeFile(join(out, 'masks.csv'), 'stale\n');
  await writeFile(join(out, 'old_lesion.nii.gz'), 'old');
  const r = await masks(out);
  assert.match(r.stdout, /2 masks written .* \(7 failed, /);
  const rows = await csvById(join(out, 'masks.csv'));
  assert.equal(rows.size, cohort.lesions.length);
  for (const id of cohort.good) assert.match(rows.get(id)!, /,ok,,/, id);
  for (const [id, code] of Object.entries(cohort.bad)) {
    assert.match(rows.get(id)!, new RegExp(`,error,${code},`), id);
    assert.match(r.stderr, new RegExp(`lesion ${id} skipped: ${code} `));
    assert.ok(!existsSync(join(out, `${id}.nii.gz`)), `no mask for ${id}`);
  }
  assert.match(rows.get('nan_offset')!, /vox_offset/);
  assert.match(rows.get('all_inf')!, /7200 of 7200 voxels are NaN or infinite/);
  assert.match(
    r.stderr,
    /1 mask file\(s\) in .* were not written by this run .*old_lesion\.nii\.gz; --force removes them/,
  );
  assert.ok(existsSync(join(out, 'old_lesion.nii.gz')), 'kept without --force');
  const again = await masks(out, '--force');
  assert.match(again.stdout, /removed 1 mask file\(s\) left by an earlier run/);
  assert.deepEqual((await readdir(out)).sort(), ['good_a.nii.gz', 'good_b.nii.gz', 'masks.csv']);
});

test('eval --pred with a NaN-offset prediction: that lesion is unreadable, the others are scored', async () => {
  const pred = join(dir, 'pred');
  await mkdir(pred);
  const a = cohort.lesions.find((l) => l.lesionId === 'good_a')!;
  const b = cohort.lesions.find((l) => l.lesionId === 'good_b')!;
  await copyFile(a.maskPath!, join(pred, 'good_a.nii.gz'));
  const bad = gunzipSync(await readFile(b.maskPath!));
  bad.writeFloatLE(Number.NaN, NIFTI_OFFSETS.voxOffset);
  await writeFile(join(pred, 'good_b.nii.gz'), bad);
  const r = await clean(registerEval, [
    'eval',
    '--manifest',
    cohort.manifest,
    '--pred',
    pred,
    '--slice',
    'all',
  ]);
  assert.match(r.stdout, /Scored 1 of 9 lesions/);
  assert.match(
    r.stderr,
    /lesion good_b not scored \(unreadable\): Prediction: vox_offset must be a whole number >= 352/,
  );
  const rows = await csvById(join(pred, 'eval-all.csv'));
  assert.match(rows.get('good_a')!, /,ok,,1,/, 'the truth as prediction scores Dice 1');
  assert.match(rows.get('good_b')!, /,unreadable,/);
});

test('segment: hostile lesions fail with their codes, the good ones are segmented', async () => {
  const model = join(dir, 'model');
  await mkdir(model);
  const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: 32, baseWidth: 4, depth: 3, seed: 1 });
  await saveCheckpoint(net, join(model, 'model'), {
    input: PLAIN_INPUT,
  });
  net.dispose();
  const out = join(dir, 'segment');
  const r = await clean(registerSegment, [
    'segment',
    '--model',
    model,
    '--manifest',
    cohort.manifest,
    '--out',
    out,
  ]);
  assert.match(r.stdout, /2\/9 lesions segmented .*\(7 failed/);
  const rows = await csvById(join(out, 'segment.csv'));
  for (const id of cohort.good) assert.match(rows.get(id)!, /,ok,/, id);
  for (const [id, code] of Object.entries(cohort.bad))
    assert.match(rows.get(id)!, new RegExp(`,failed,"?${code}`), id);
});

test(
  'run: hostile lesions are failed rows of lesions.csv; the good ones get masks and volumes',
  { timeout: 300000 },
  async () => {
    // run checks at loading that every image exists (a missing one refuses the manifest): leave that row out
    const lesions = cohort.lesions
      .filter((l) => l.lesionId !== 'no_image')
      .map((l, q) => ({ ...l, row: q + 2 }));
    const manifest = join(dir, 'run.csv');
    await writeManifest(manifest, lesions);
    const out = join(dir, 'run');
    const r = await clean(registerRun, ['run', '--manifest', manifest, '--out', out, ...FAST]);
    assert.match(r.stdout, /2\/8 lesions segmented .*\(6 failed: see lesions\.csv\)/);
    const rows = await csvById(join(out, 'lesions.csv'));
    for (const id of cohort.good) {
      assert.match(rows.get(id)!, /,ok,,masks\//, id);
      assert.ok(existsSync(join(out, 'masks', `${id}.nii.gz`)));
    }
    for (const [id, code] of Object.entries(cohort.bad).filter(([x]) => x !== 'no_image')) {
      assert.match(rows.get(id)!, new RegExp(`,failed,"?${code}: `), id);
      assert.ok(!existsSync(join(out, 'masks', `${id}.nii.gz`)), `no mask for ${id}`);
    }
  },
);

test('run with no lesion left to train on says so and why, before the engine is called', async () => {
  const bad = cohort.lesions
    .filter((l) => l.lesionId in cohort.bad && l.lesionId !== 'no_image')
    .map((l, q) => ({ ...l, row: q + 2 }));
  const manifest = join(dir, 'all-bad.csv');
  await writeManifest(manifest, bad);
  await assert.rejects(
    runCliWithStderr(registerRun, ['run', '--manifest', manifest, '--out', join(dir, 'run-bad'), ...FAST]),
    (e) => {
      assert.ok(isRecist3dError(e, 'E_PIPELINE'), String(e));
      assert.match(
        e.message,
        /No lesion left to train on: all 6 lesion\(s\) failed before training \(2 E_NIFTI_VALUES, /,
      );
      return true;
    },
  );
  // --labels full with no mask column
  const noMasks = join(dir, 'no-masks.csv');
  await writeManifest(
    noMasks,
    cohort.lesions
      .filter((l) => cohort.good.includes(l.lesionId))
      .map(({ maskPath: _m, ...l }, q) => ({ ...l, row: q + 2 })),
  );
  await assert.rejects(
    runCliWithStderr(registerRun, [
      'run',
      '--manifest',
      noMasks,
      '--out',
      join(dir, 'run-full'),
      ...FAST,
      '--labels',
      'full',
    ]),
    (e) => {
      assert.ok(isRecist3dError(e, 'E_PIPELINE'), String(e));
      assert.match(
        e.message,
        /--labels full gave no training label for the 2 usable lesion\(s\); it needs a readable reference mask .* \(2 of them have none/,
      );
      return true;
    },
  );
});

test('masks: a mask that cannot be written is a failed row naming the path, and the summary counts it', async () => {
  const out = join(dir, 'masks-unwritable');
  // a folder where good_b's mask file should go: the write fails with EISDIR
  await mkdir(join(out, 'good_b.nii.gz'), { recursive: true });
  const r = await masks(out);
  assert.match(r.stdout, /1 masks written .* \(8 failed, /);
  const rows = await csvById(join(out, 'masks.csv'));
  assert.match(rows.get('good_a')!, /,ok,,/);
  assert.match(
    rows.get('good_b')!,
    /,error,E_OUTPUT_INVALID,"Could not write the mask: EISDIR: .*masks-unwritable\/good_b\.nii\.gz'"/,
  );
});
