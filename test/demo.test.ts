/**
 * `recist3d demo` end to end on a tiny phantom cohort (4 studies, short training): the cohort, the run, the
 * scores against the phantom truth, the follow-up line and the report; a rerun reuses the cohort and stages.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';

const ROOT = resolve(import.meta.dirname, '..');
const TINY = [
  '--lesions',
  '6',
  '--rounds',
  '1',
  '--epochs',
  '2',
  '--fine-tune-epochs',
  '1',
  '--roi-size',
  '32',
  '--arch',
  'unet',
];

function demo(out: string) {
  return spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'demo', '--out', out, ...TINY],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true' },
    },
  );
}

test('demo on a tiny phantom cohort: masks, scores, follow-up and report; a rerun reuses everything', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'recist3d-demo-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'demo');
  const r = demo(out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\d+\/\d+ lesions segmented/);
  assert.match(r.stdout, /3D \(against ground truth\):/);
  assert.match(r.stdout, /Demo finished in \d+ s\. Open .*report\.html/);
  for (const f of [
    'cohort/manifest.csv',
    'run/lesions.csv',
    'run/metrics.json',
    'run/report.html',
    'run/model.pt',
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
  const metrics = JSON.parse(await readFile(join(out, 'run', 'metrics.json'), 'utf8'));
  assert.ok(
    metrics.metrics3d.overall.stats.dice.mean > 0.2,
    `3D Dice ${metrics.metrics3d.overall.stats.dice.mean}`,
  );
  const again = demo(out);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /reusing the cohort/);
  assert.match(again.stderr, /\[train-r1\] finished earlier .*; reused/);
});
