/**
 * `recist3d eval` on a tiny cohort: a perfect prediction scores Dice 1, an empty one Dice 0, and missing or
 * misaligned predictions are reported per lesion (CSV, JSON, stderr), never silently dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerEval } from '../src/cli/commands/eval.js';
import { readNifti, writeNifti } from '../src/io/nifti.js';
import { runCliWithStderr } from './helpers/cli.js';
import { makeTinyCohort } from './helpers/tiny-cohort.js';

const run = (args: string[]) => runCliWithStderr(registerEval, args);

test('eval: scores what it can, reports missing and misaligned predictions per lesion', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-eval-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { manifest } = await makeTinyCohort(dir);
  const pred = join(dir, 'pred');
  const a = await readNifti(join(dir, 'a_mask.nii.gz'));
  const b = await readNifti(join(dir, 'b_mask.nii.gz'));
  await writeNifti(join(pred, 'good_a.nii.gz'), a); // perfect
  // good_b: no file (missing)
  await writeNifti(join(pred, 'degenerate.nii.gz'), {
    ...a,
    size: [40, 36, 4],
    data: a.data.slice(0, 40 * 36 * 4),
  });
  await writeNifti(join(pred, 'outside.nii.gz'), { ...b, data: new Uint8Array(b.data.length) }); // empty
  await writeNifti(join(pred, 'no_image.nii.gz'), { ...a, origin: [0, 0, 0], meta: {} }); // shifted grid

  process.exitCode = 0;
  const r = await run(['eval', '--manifest', manifest, '--pred', pred, '--strict']);
  assert.equal(process.exitCode, 1, '--strict fails when a lesion is not scored');
  process.exitCode = 0;
  assert.match(r.stdout, /Scored 2 of 5 lesions/);
  // Dice of good_a = 1 and of outside = 0 -> mean 0.50 ± 0.50
  assert.match(r.stdout, /all\s+2\s+0\.50±0\.50/);
  assert.match(r.stdout, /WARNING: 3 lesion\(s\) not scored \(1 missing, 2 misaligned\)/);
  assert.match(r.stderr, /lesion good_b not scored \(missing\)/);
  assert.match(r.stderr, /lesion degenerate not scored \(misaligned\): Prediction grid 40x36x4/);
  assert.match(r.stderr, /lesion no_image not scored \(misaligned\): Prediction affine/);

  const csv = (await readFile(join(pred, 'eval-key.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 6);
  assert.match(
    csv.find((l) => l.startsWith('good_a,'))!,
    /^good_a,soft_tissue,ok,,1,1,1,1,0,/,
  );
  assert.match(
    csv.find((l) => l.startsWith('good_b,'))!,
    /,missing,/,
  );
  const json = JSON.parse(await readFile(join(pred, 'eval-key.json'), 'utf8'));
  assert.deepEqual(json.counts, { ok: 2, missing: 1, misaligned: 2, unreadable: 0, no_truth: 0 });
  const outside = json.rows.find((x: { lesionId: string }) => x.lesionId === 'outside');
  assert.equal(outside.metrics.dice, 0);
  assert.equal(outside.metrics.avdMm, null); // +Infinity in JSON

  // 3D: the perfect prediction is perfect in every slice too
  const r3 = await run([
    'eval',
    '--manifest',
    manifest,
    '--pred',
    pred,
    '--slice',
    'all',
    '--out',
    join(dir, 'e3'),
  ]);
  assert.match(r3.stdout, /on the whole volume/);
  const j3 = JSON.parse(await readFile(join(dir, 'e3', 'eval-all.json'), 'utf8'));
  assert.equal(j3.rows.find((x: { lesionId: string }) => x.lesionId === 'good_a').metrics.dice, 1);
});
