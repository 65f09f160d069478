/**
 * The Table 5 driver (paper Table 5, Figures 4 and 5) on a tiny phantom cohort: every baseline and every
 * round's model is scored, and the table, both figures and the JSON dump are written.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runExperiment3d } from '../src/experiments/table5.js';
import { writeCohort } from '../src/synth/write.js';

test('table 5 driver on a tiny cohort: baselines, HNN and WSSS-3 rows, the table, the figures and the JSON', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'recist3d-t5-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cohort = await writeCohort(join(dir, 'cohort'), { lesions: 6, seed: 5 });
  const rows = await runExperiment3d(cohort.manifestPath, join(dir, 't5'), {
    rounds: 1,
    stack: { roiSize: 32 },
    net: { arch: 'unet', baseWidth: 4 },
    fit: { maxEpochs: 2, minSamplesPerEpoch: 16 },
    fineTune: { maxEpochs: 1 },
    title: 'tiny',
  });
  assert.deepEqual(
    rows.map((r) => r.method),
    ['RECIST ellipsoid', 'GrabCut-3D', 'GrabCut-3DE', 'HNN (RECIST slice only)', 'WSSS-3'],
  );
  for (const r of rows) {
    const dice = r.scores.metrics3d?.overall.stats.dice.mean ?? Number.NaN;
    assert.ok(dice >= 0 && dice <= 1, `${r.method}: 3D Dice ${dice}`);
  }
  // the image-free ellipsoid is exact on its own RECIST slice up to rasterisation: a high key-slice Dice
  assert.ok(rows[0].scores.metricsKey!.overall.stats.dice.mean > 0.6);
  const md = await readFile(join(dir, 't5', 'table5.md'), 'utf8');
  for (const r of rows) assert.ok(md.includes(`| ${r.method} |`), r.method);
  for (const f of ['dice-by-offset.svg', 'pr-3d.svg']) {
    assert.match(await readFile(join(dir, 't5', f), 'utf8'), /^<svg/);
  }
  const json = JSON.parse(await readFile(join(dir, 't5', 'experiment3d.json'), 'utf8'));
  assert.equal(json.length, rows.length);
});
