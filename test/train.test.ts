/**
 * `recist3d train` and the CNN loss: a hand-checked loss on a 2x2 map, ignored pixels do not change the
 * loss, an HNN checkpoint (weights + sidecar) predicts identically after loading, the command end to end on
 * a tiny phantom cohort (then `segment` with that model on another manifest), and an interrupted run resumes to exactly the uninterrupted result.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { registerSynth } from '../src/cli/commands/synth.js';
import { registerTrain } from '../src/cli/commands/train.js';
import { registerSegment } from '../src/cli/commands/segment.js';
import { readMask, readNiftiHeader } from '../src/io/nifti.js';
import { runCli } from './helpers/cli.js';
import { makeTinyCohort } from './helpers/tiny-cohort.js';
import { loadManifest } from '../src/io/manifest.js';
import { SegNet } from '../src/model/binding.js';
import { loadCheckpoint, readSidecar, saveCheckpoint } from '../src/model/checkpoint.js';
import { trainCnnOnStacks, type CnnTrainOptions } from '../src/pipeline/train-cnn.js';
import { createRng } from '../src/util/random.js';
import { buildKeyStacks } from '../src/steps/1-roi-stacks.js';
import { PLAIN_INPUT } from './helpers/checkpoint-input.js';

const softplus = (z: number) => Math.log1p(Math.exp(z));
const logit = (p: number) => Math.log(p / (1 - p));

test('loss on a 2x2 map equals the per-image weighted BCE computed by hand (bce and balanced)', async () => {
  // A zero image makes every UNet layer output 0 (convs have no bias; BN of a constant is 0 in train and
  // eval mode), so the logit is the head bias b everywhere and predict() tells us b.
  const y = Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0]);
  const w = Float32Array.from([1, 1, 0.5, 0, 2, 1, 1, 0]);
  const x = new Float32Array(8);
  for (const loss of ['bce', 'balanced'] as const) {
    const net = await SegNet.create({
      arch: 'unet',
      inChannels: 1,
      size: 2,
      baseWidth: 2,
      depth: 2,
      seed: 3,
      loss,
    });
    try {
      const p = await net.predict(x, 2);
      assert.ok(
        p.every((v) => Math.abs(v - p[0]) < 1e-6),
        'constant output on a zero image',
      );
      const b = logit(p[0]);
      let expected = 0;
      for (let i = 0; i < 2; i++) {
        let pos = 0;
        let neg = 0;
        for (let q = 4 * i; q < 4 * i + 4; q++) {
          if (y[q]) pos += w[q];
          else neg += w[q];
        }
        const den = pos + neg;
        const beta = loss === 'balanced' ? neg / den : 1;
        const a = loss === 'balanced' ? 1 - beta : 1;
        expected += (beta * pos * softplus(-b) + a * neg * softplus(b)) / den / 2;
      }
      const { loss: got } = await net.trainStep({ x, y, w, n: 2 });
      assert.ok(Math.abs(got - expected) < 1e-5, `${loss}: loss ${got} vs hand-computed ${expected}`);
    } finally {
      net.dispose();
    }
  }
});

test('pixels with weight 0 are ignored: flipping their targets leaves the HNN loss unchanged', async () => {
  const n = 2;
  const px = 16 * 16;
  const rng = createRng(5);
  const x = Float32Array.from({ length: n * px }, () => rng.next());
  const y = Float32Array.from({ length: n * px }, () => (rng.next() > 0.6 ? 1 : 0));
  const w = Float32Array.from({ length: n * px }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const flipped = y.map((v, i) => (w[i] === 0 ? 1 - v : v));
  const changed = y.map((v, i) => (i % 3 === 1 ? 1 - v : v));
  const cfg = { arch: 'hnn', inChannels: 1, size: 16, baseWidth: 4, seed: 2 } as const;
  const losses: number[] = [];
  for (const target of [y, flipped, changed]) {
    const net = await SegNet.create(cfg);
    try {
      losses.push((await net.trainStep({ x, y: target, w, n })).loss);
    } finally {
      net.dispose();
    }
  }
  assert.ok(Math.abs(losses[0] - losses[1]) < 1e-6, `ignored pixels changed the loss: ${losses}`);
  assert.ok(Math.abs(losses[0] - losses[2]) > 1e-3, 'flipping weighted pixels must change the loss');
  const zero = await SegNet.create(cfg);
  try {
    assert.equal((await zero.trainStep({ x, y, w: new Float32Array(n * px), n })).loss, 0);
  } finally {
    zero.dispose();
  }
});

test('an HNN checkpoint (weights + sidecar) loads into a net that predicts identically', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-ckpt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const net = await SegNet.create({ arch: 'hnn', inChannels: 1, size: 32, baseWidth: 4, seed: 9 });
  const rng = createRng(1);
  const x = Float32Array.from({ length: 3 * 32 * 32 }, () => rng.next());
  const y = x.map((v) => (v > 0.5 ? 1 : 0));
  try {
    await net.trainEpoch({ x, y, n: 3 }, { batchSize: 2, seed: 4 });
    const before = await net.predict(x, 3);
    await saveCheckpoint(net, join(dir, 'model'), {
      input: PLAIN_INPUT,
    });
    const { net: loaded, sidecar } = await loadCheckpoint(join(dir, 'model'));
    try {
      assert.equal(sidecar.net.arch, 'hnn');
      assert.equal(sidecar.net.size, 32);
      assert.deepEqual(await loaded.predict(x, 3), before);
    } finally {
      loaded.dispose();
    }
  } finally {
    net.dispose();
  }
});

test('train: end to end on 6 phantom lesions, then an interrupted run resumes to the same model', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-train-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await runCli(registerSynth, ['synth', '--out', join(dir, 'ph'), '--lesions', '6', '--seed', '3']);
  const manifest = join(dir, 'ph', 'manifest.csv');
  const out = join(dir, 'model');
  const common = [
    '--manifest',
    manifest,
    '--roi-size',
    '32',
    '--base-width',
    '4',
    '--samples-per-epoch',
    '8',
  ];
  const stdout = await runCli(registerTrain, [
    'train',
    ...common,
    '--out',
    out,
    '--labels',
    'recist',
    '--epochs',
    '2',
  ]);
  assert.match(stdout, /Trained hnn on \d+ lesions: 2 epochs/);
  const side = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
  assert.equal(side.net.arch, 'hnn');
  assert.equal(side.net.size, 32);
  assert.equal(side.input.roiScale, 2);
  assert.equal(side.metrics.epochs, 2);
  assert.equal(side.metrics.history.length, 2);
  assert.equal(side.provenance.labels, 'recist');
  assert.ok(existsSync(join(out, 'model.pt')) && existsSync(join(out, 'rounds', 'round0.last.pt')));
  assert.match(await readFile(join(out, 'training-curve.svg'), 'utf8'), /^<svg/);
  // a rerun with the same settings reuses the model
  assert.match(
    await runCli(registerTrain, ['train', ...common, '--out', out, '--labels', 'recist', '--epochs', '2']),
    /Model already trained/,
  );

  // --init: the weights of a matching model load; another architecture is refused
  const warm = await runCli(registerTrain, [
    'train',
    ...common,
    '--out',
    join(dir, 'warm'),
    '--labels',
    'recist',
    '--epochs',
    '1',
    '--init',
    out,
  ]);
  assert.match(warm, /Trained hnn/);
  assert.equal(JSON.parse(await readFile(join(dir, 'warm', 'model.json'), 'utf8')).provenance.init, out);
  await assert.rejects(
    runCli(registerTrain, [
      'train',
      ...common,
      '--out',
      join(dir, 'bad'),
      '--arch',
      'unet',
      '--epochs',
      '1',
      '--init',
      out,
    ]),
    (e: { code?: string }) => e.code === 'E_NATIVE_SHAPE',
  );

  // the model segments a manifest it has never seen (other images, other sizes), on each input grid
  const tiny = await makeTinyCohort(dir);
  const seg = await runCli(registerSegment, [
    'segment',
    '--model',
    out,
    '--manifest',
    tiny.manifest,
    '--out',
    join(dir, 'seg'),
  ]);
  assert.match(seg, /2\/5 lesions segmented/);
  for (const id of ['good_a', 'good_b']) {
    const image = await readNiftiHeader(tiny.lesions.find((l) => l.lesionId === id)!.imagePath);
    const mask = await readMask(join(dir, 'seg', 'masks', `${id}.nii.gz`));
    assert.deepEqual([mask.size, mask.origin, mask.spacingMm], [image.size, image.origin, image.spacingMm]);
  }

  // resume: stop after epoch 2 of 3, rerun, compare with an uninterrupted run
  const records = await loadManifest(manifest);
  const stacks = (await buildKeyStacks(records, { roiSize: 32, roiScale: 2 })).flatMap((r) =>
    r.ok ? [r.stack] : [],
  );
  const opts: CnnTrainOptions = {
    labels: 'recist',
    net: { arch: 'unet', baseWidth: 4 },
    stack: { roiSize: 32 },
    fit: { maxEpochs: 3, minSamplesPerEpoch: 8, batchSize: 4 },
  };
  const straight = await trainCnnOnStacks(stacks, join(dir, 'straight'), opts);
  await assert.rejects(
    trainCnnOnStacks(stacks, join(dir, 'resumed'), opts, {
      epoch: (_, e) => {
        if (e.epoch === 2) throw new Error('interrupted');
      },
    }),
    /interrupted/,
  );
  assert.ok(
    !existsSync(join(dir, 'resumed', 'model.json')) &&
      existsSync(join(dir, 'resumed', 'rounds', 'round0.last.json')),
  );
  const resumed = await trainCnnOnStacks(stacks, join(dir, 'resumed'), opts);
  try {
    assert.deepEqual(
      await trainLosses(join(dir, 'resumed', 'model')),
      await trainLosses(join(dir, 'straight', 'model')),
    );
    const x = new Float32Array(stacks.length * 32 * 32);
    stacks.forEach((s, i) => s.keyRoi.image.forEach((v, p) => (x[i * 1024 + p] = v / 255)));
    assert.deepEqual(
      await resumed.net.predict(x, stacks.length),
      await straight.net.predict(x, stacks.length),
    );
  } finally {
    straight.net.dispose();
    resumed.net.dispose();
  }
});

async function trainLosses(base: string): Promise<number[]> {
  return ((await readSidecar(base)).metrics.history as { trainLoss: number }[]).map((e) => e.trainLoss);
}
