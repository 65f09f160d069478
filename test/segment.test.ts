/**
 * `recist3d segment`: a model trained on one cohort segments the RECIST slices of another manifest; masks land
 * on each input grid (same size and affine, only the key slice non-zero) and bad lesions are reported per
 * lesion. CNN-GC keeps the CNN mask when GrabCut fails, and uses GrabCut's answer when it succeeds.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { registerSegment } from '../src/cli/commands/segment.js';
import { readMask, readNifti } from '../src/io/nifti.js';
import { loadManifest } from '../src/io/manifest.js';
import type { GrabCutBatch } from '../src/model/binding.js';
import { SegNet } from '../src/model/binding.js';
import { saveCheckpoint } from '../src/model/checkpoint.js';
import { segmentKeySlices } from '../src/steps/key-slice.js';
import { runCli } from './helpers/cli.js';
import { makeTinyCohort } from './helpers/tiny-cohort.js';
import { buildKeyStacks } from '../src/steps/1-roi-stacks.js';
import { PLAIN_INPUT } from './helpers/checkpoint-input.js';

const cli = (args: string[]) => runCli(registerSegment, args);

/** A small UNet fitted to the tiny cohort's key slices (bright disks), saved as a model folder. */
async function tinyModel(dir: string, manifest: string): Promise<string> {
  const records = (await loadManifest(manifest, { checkFiles: false })).filter((r) =>
    r.lesionId.startsWith('good'),
  );
  const stacks = (await buildKeyStacks(records, { roiSize: 32, roiScale: 2 })).flatMap((r) =>
    r.ok ? [r.stack] : [],
  );
  const n = stacks.length;
  const x = new Float32Array(n * 1024);
  stacks.forEach((s, i) => s.keyRoi.image.forEach((v, p) => (x[i * 1024 + p] = v / 255)));
  const y = x.map((v) => (v > 0.5 ? 1 : 0));
  const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: 32, baseWidth: 4, depth: 3, seed: 1 });
  await mkdir(dir, { recursive: true });
  try {
    for (let e = 0; e < 60; e++) await net.trainEpoch({ x, y, n }, { batchSize: n, seed: e });
    await saveCheckpoint(net, join(dir, 'model'), {
      input: PLAIN_INPUT,
    });
  } finally {
    net.dispose();
  }
  return dir;
}

let dir = '';
let cohort: Awaited<ReturnType<typeof makeTinyCohort>>;
let model = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'r3d-segment-'));
  cohort = await makeTinyCohort(dir);
  model = await tinyModel(join(dir, 'model'), cohort.manifest);
});
after(() => rm(dir, { recursive: true, force: true }));

test('segment: masks on each input grid for a new manifest; bad lesions are reported, not fatal', async () => {
  for (const gc of [false, true]) {
    const out = join(dir, gc ? 'out-gc' : 'out');
    const stdout = await cli([
      'segment',
      '--model',
      model,
      '--manifest',
      cohort.manifest,
      '--out',
      out,
      ...(gc ? ['--gc'] : []),
    ]);
    assert.match(stdout, /2\/5 lesions segmented .*\(3 failed/);
    const csv = (await readFile(join(out, 'segment.csv'), 'utf8')).trim().split('\n');
    assert.equal(csv.length, 6);
    const rows = csv.slice(1).map((l) => l.split(','));
    assert.deepEqual(
      rows.map((r) => [r[0], r[3]]),
      [
        ['good_a', 'ok'],
        ['degenerate', 'failed'],
        ['good_b', 'ok'],
        ['outside', 'failed'],
        ['no_image', 'failed'],
      ],
    );
    for (const lesion of cohort.lesions.filter((l) => l.lesionId.startsWith('good'))) {
      const image = await readNifti(lesion.imagePath);
      const mask = await readMask(join(out, 'masks', `${lesion.lesionId}.nii.gz`));
      assert.deepEqual(mask.size, image.size);
      assert.deepEqual(mask.origin, image.origin);
      assert.deepEqual(mask.spacingMm, image.spacingMm);
      assert.deepEqual(mask.direction, image.direction);
      const plane = image.size[0] * image.size[1];
      let onKey = 0;
      let elsewhere = 0;
      mask.data.forEach((v, i) => {
        if (Math.floor(i / plane) === lesion.keySlice) onKey += v ? 1 : 0;
        else elsewhere += v ? 1 : 0;
      });
      assert.equal(elsewhere, 0);
      assert.ok(onKey > 0, `${lesion.lesionId}: empty key slice`);
      const row = rows.find((r) => r[0] === lesion.lesionId)!;
      assert.ok(Number(row[9]) > 0.7, `${lesion.lesionId}${gc ? ' (gc)' : ''}: Dice ${row[9]}`);
      if (gc) assert.match(row[8], /^[01]$/);
    }
  }
  assert.ok(existsSync(join(dir, 'out', 'segment.json')));
});

test('CNN-GC keeps the CNN mask when GrabCut fails and takes GrabCut when it succeeds', async () => {
  const records = (await loadManifest(cohort.manifest, { checkFiles: false })).filter((r) =>
    r.lesionId.startsWith('good'),
  );
  const stacks = (await buildKeyStacks(records, { roiSize: 32, roiScale: 2 })).flatMap((r) =>
    r.ok ? [r.stack] : [],
  );
  const { loadCheckpoint } = await import('../src/model/checkpoint.js');
  const { net } = await loadCheckpoint(join(model, 'model'));
  try {
    const plain = await segmentKeySlices(net, stacks);
    const failing = async (b: GrabCutBatch) => ({
      masks: new Uint8Array(b.n * b.h * b.w),
      status: new Int8Array(b.n).fill(3),
    });
    const fallback = await segmentKeySlices(net, stacks, { gc: true }, failing);
    fallback.forEach((r, i) => {
      assert.equal(r.gcFallback, true);
      assert.deepEqual(r.maskBox, plain[i].maskBox);
    });
    // a GrabCut that keeps the whole ROI is used as is (all of the box is foreground; the RECIST prior's key
    // slab and HU exclusion, which would trim it, are off here)
    const everything = async (b: GrabCutBatch) => ({
      masks: new Uint8Array(b.n * b.h * b.w).fill(1),
      status: new Int8Array(b.n),
    });
    const raw = { gc: true, keySlab: -1, huExclusion: null, priorOutThreshold: 0 };
    const taken = await segmentKeySlices(net, stacks, raw, everything);
    taken.forEach((r) => {
      assert.equal(r.gcFallback, false);
      assert.ok(r.maskBox.every((v) => v === 1));
    });
  } finally {
    net.dispose();
  }
});
