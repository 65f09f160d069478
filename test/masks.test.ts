/**
 * `recist3d masks` end to end on a tiny generated cohort: masks land on the input grid (same header, only the
 * RECIST slice non-zero), and bad lesions (degenerate RECIST, RECIST off the slice, missing image) are
 * reported per lesion while the rest finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerMasks } from '../src/cli/commands/masks.js';
import { readNifti } from '../src/io/nifti.js';
import { computeConfusion, computeOverlap } from '../src/metrics/overlap.js';
import { runCli } from './helpers/cli.js';
import { makeTinyCohort } from './helpers/tiny-cohort.js';

const run = (args: string[]) => runCli(registerMasks, args);

test('masks: writes one mask per good lesion on the input grid and reports the bad ones', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-masks-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cohort = await makeTinyCohort(dir);
  const out = join(dir, 'out');
  const stdout = await run(['masks', '--manifest', cohort.manifest, '--out', out, '--size', '64']);
  assert.match(stdout, /2 masks written .* \(3 failed, 0 used the fallback\)/);

  const csv = (await readFile(join(out, 'masks.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 1 + 5);
  const byId = new Map(csv.slice(1).map((l) => [l.split(',')[0], l]));
  assert.match(byId.get('good_a')!, /,ok,,/);
  assert.match(byId.get('degenerate')!, /,error,E_RECIST_DEGENERATE,/);
  assert.match(byId.get('outside')!, /,error,E_RECIST_OUTSIDE,/);
  assert.match(byId.get('no_image')!, /,error,E_FILE_NOT_FOUND,/);
  assert.ok(!existsSync(join(out, 'degenerate.nii.gz')));

  for (const id of ['good_a', 'good_b']) {
    const lesion = cohort.lesions.find((l) => l.lesionId === id)!;
    const img = await readNifti(lesion.imagePath);
    const m = await readNifti(join(out, `${id}.nii.gz`));
    assert.deepEqual(m.size, img.size);
    assert.deepEqual(m.spacingMm, img.spacingMm);
    assert.deepEqual(m.origin, img.origin);
    assert.deepEqual(m.direction, img.direction);
    const plane = img.size[0] * img.size[1];
    for (let k = 0; k < img.size[2]; k++) {
      const s = m.data.subarray(k * plane, (k + 1) * plane);
      let fg = 0;
      for (let p = 0; p < s.length; p++) if (s[p]) fg++;
      if (k === lesion.keySlice) {
        const truth = lesion.truth.subarray(k * plane, (k + 1) * plane);
        const dice = computeOverlap(computeConfusion(s, truth)).dice;
        assert.ok(dice > 0.85, `${id} Dice ${dice}`);
      } else assert.equal(fg, 0, `${id} slice ${k} should be empty`);
    }
  }
});
