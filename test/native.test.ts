/**
 * Native engine: the networks learn, training leaves the event loop free, checkpoints round-trip and
 * training is deterministic for a fixed seed. Errors and memory are in native-errors / native-memory.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SegNet, type TrainBatch } from '../src/model/binding.js';
import { createRng } from '../src/util/random.js';

const SIZE = 32;
const tmp = mkdtempSync(join(tmpdir(), 'recist3d-native-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** n noisy bright disks of random centre and radius on a dark background; y is the disk. */
function disks(n: number, seed: number): TrainBatch {
  const rng = createRng(seed);
  const plane = SIZE * SIZE;
  const x = new Float32Array(n * plane);
  const y = new Float32Array(n * plane);
  for (let k = 0; k < n; k++) {
    const cy = rng.uniform(0.35, 0.65) * SIZE;
    const cx = rng.uniform(0.35, 0.65) * SIZE;
    const r = rng.uniform(0.12, 0.25) * SIZE;
    for (let i = 0; i < SIZE; i++) {
      for (let j = 0; j < SIZE; j++) {
        const inside = (i - cy) ** 2 + (j - cx) ** 2 <= r * r;
        y[k * plane + i * SIZE + j] = inside ? 1 : 0;
        x[k * plane + i * SIZE + j] = (inside ? 0.8 : 0.2) + 0.1 * rng.normal();
      }
    }
  }
  return { x, y, n };
}

function dice(prob: Float32Array, target: Float32Array): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < prob.length; i++) {
    const p = prob[i] > 0.5 ? 1 : 0;
    inter += p * target[i];
    sum += p + target[i];
  }
  return sum === 0 ? 1 : (2 * inter) / sum;
}

test('a tiny UNet overfits 8 synthetic disks (Dice > 0.95)', async () => {
  const data = disks(8, 1);
  const net = await SegNet.create({
    arch: 'unet',
    inChannels: 1,
    size: SIZE,
    baseWidth: 8,
    depth: 3,
    seed: 1,
    learningRate: 1e-2,
  });
  try {
    const before = dice(await net.predict(data.x, data.n), data.y);
    let first = NaN;
    let last = NaN;
    for (let step = 0; step < 60; step++) {
      last = (await net.trainStep(data)).loss;
      if (step === 0) first = last;
    }
    const after = dice(await net.predict(data.x, data.n, { batchSize: 3 }), data.y);
    assert.ok(last < first / 2, `loss should fall: ${first} -> ${last}`);
    assert.ok(after > 0.95, `Dice after training ${after} (before ${before})`);
  } finally {
    net.dispose();
  }
});

test('a tiny HNN (deep supervision, fused output) overfits the disks too (Dice > 0.9)', async () => {
  const data = disks(8, 2);
  const net = await SegNet.create({
    arch: 'hnn',
    inChannels: 1,
    size: SIZE,
    baseWidth: 8,
    depth: 3,
    seed: 2,
    learningRate: 1e-2,
  });
  try {
    for (let step = 0; step < 40; step++) await net.trainStep(data);
    const d = dice(await net.predict(data.x, data.n), data.y);
    assert.ok(d > 0.9, `HNN Dice after training ${d}`);
  } finally {
    net.dispose();
  }
});

test('the event loop keeps ticking while an epoch trains, and progress reaches every step', async () => {
  const data = disks(48, 3);
  const net = await SegNet.create({
    arch: 'unet',
    inChannels: 1,
    size: SIZE,
    baseWidth: 16,
    depth: 3,
    seed: 3,
  });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 2);
  const progress: [number, number, number][] = [];
  try {
    const t0 = performance.now();
    const r = await net.trainEpoch(data, {
      batchSize: 4,
      seed: 5,
      augment: { flip: true, rot90: true, scale: 0.1, intensity: 0.1 },
      onProgress: (done, total, loss) => progress.push([done, total, loss]),
    });
    const ms = performance.now() - t0;
    assert.equal(r.steps, 12);
    assert.ok(Number.isFinite(r.loss) && r.loss > 0);
    assert.deepEqual(
      progress.map((p) => p[0]),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.ok(progress.every((p) => p[1] === 12));
    assert.equal(progress[11][2], r.loss);
    // A blocked loop would tick ~0 times; a free one ticks about ms/2 times (timers are coarse under load).
    assert.ok(ticks >= Math.min(20, ms / 20), `only ${ticks} ticks in ${ms.toFixed(0)} ms of training`);
  } finally {
    clearInterval(timer);
    net.dispose();
  }
});

test('maxSamples stops an epoch after that many images; a negative value is a coded error', async () => {
  const data = disks(48, 3);
  const net = await SegNet.create({
    arch: 'hnn',
    inChannels: 1,
    size: SIZE,
    baseWidth: 8,
    depth: 3,
    seed: 3,
  });
  try {
    const capped = await net.trainEpoch(data, { batchSize: 8, seed: 1, maxSamples: 20 });
    assert.equal(capped.steps, 3, '20 images in batches of 8 = 3 steps');
    const all = await net.trainEpoch(data, { batchSize: 8, seed: 1, maxSamples: 0 });
    assert.equal(all.steps, 6, '0 = every image');
    await assert.rejects(net.trainEpoch(data, { batchSize: 8, seed: 1, maxSamples: -1 }), /maxSamples/);
  } finally {
    net.dispose();
  }
});

test('save/load round-trips weights and optimizer; same seeds give identical weights', async () => {
  const data = disks(8, 4);
  const cfg = { arch: 'unet', inChannels: 1, size: SIZE, baseWidth: 8, depth: 3, seed: 7 } as const;
  const opts = { batchSize: 4, seed: 11, augment: { flip: true, scale: 0.1 } };
  const a = await SegNet.create(cfg);
  const b = await SegNet.create(cfg);
  const c = await SegNet.create({ ...cfg, seed: 8 });
  try {
    await a.trainEpoch(data, opts);
    await b.trainEpoch(data, opts);
    const pa = await a.predict(data.x, data.n);
    assert.deepEqual(await b.predict(data.x, data.n), pa, 'same seeds and threads -> same weights');
    const path = join(tmp, 'a.pt');
    a.learningRate = 2e-3;
    await a.save(path);
    await c.load(path);
    assert.equal(c.learningRate, 2e-3, 'the learning rate comes back with the optimizer state');
    assert.deepEqual(await c.predict(data.x, data.n), pa, 'loaded net predicts exactly like the saved one');
    // The optimizer state came along: one more identical step keeps the two nets identical.
    await a.trainStep(data);
    await c.trainStep(data);
    assert.deepEqual(await c.predict(data.x, data.n), await a.predict(data.x, data.n));
  } finally {
    for (const n of [a, b, c]) n.dispose();
  }
});

test('learningRate is readable and settable; parameterCount matches the architecture', async () => {
  const net = await SegNet.create({ arch: 'unet', inChannels: 2, size: 16, baseWidth: 4, depth: 2 });
  try {
    assert.equal(net.learningRate, 1e-3);
    net.learningRate = 5e-4;
    assert.equal(net.learningRate, 5e-4);
    // level0: 2->4, 4->4 convs (no bias) + 2 BN(4); level1: 4->8, 8->8 + 2 BN(8);
    // up0: 12->4, 4->4 + 2 BN(4); head 4->1 with bias.
    const convs = 9 * (2 * 4 + 4 * 4 + 4 * 8 + 8 * 8 + 12 * 4 + 4 * 4);
    const bns = 2 * (2 * 4 + 2 * 8 + 2 * 4);
    assert.equal(net.parameterCount(), convs + bns + 4 + 1);
    assert.deepEqual(net.config, {
      arch: 'unet',
      inChannels: 2,
      size: 16,
      baseWidth: 4,
      depth: 2,
      seed: 0,
      learningRate: 1e-3,
      loss: 'bce',
    });
  } finally {
    net.dispose();
  }
});

/** The loss the engine should report, computed in float64 from the probabilities it will see. */
function expectedLoss(
  p: Float32Array,
  y: Float32Array,
  w: Float32Array,
  n: number,
  balanced: boolean,
): number {
  const plane = p.length / n;
  let total = 0;
  for (let k = 0; k < n; k++) {
    let wPos = 0;
    let wNeg = 0;
    for (let i = k * plane; i < (k + 1) * plane; i++) {
      wPos += w[i] * y[i];
      wNeg += w[i] * (1 - y[i]);
    }
    const den = wPos + wNeg;
    // HED: positives weighted by beta = |Y-|/|Y|, negatives by 1 - beta = |Y+|/|Y|.
    const [posWeight, negWeight] = balanced ? [wNeg / den, wPos / den] : [1, 1];
    let num = 0;
    for (let i = k * plane; i < (k + 1) * plane; i++) {
      num += posWeight * w[i] * y[i] * -Math.log(p[i]) + negWeight * w[i] * (1 - y[i]) * -Math.log(1 - p[i]);
    }
    total += den > 0 ? num / den : 0;
  }
  return total / n;
}

test('losses: bce = sum(w*BCE)/sum(w) per image then mean; balanced = HED beta weighting', async () => {
  // A one-stage HNN has no BatchNorm and its fused output equals its side output (fusion weight 1, bias 0),
  // so predict() returns exactly the probabilities that trainStep's loss sees before it updates.
  const s = 8;
  const n = 3;
  const rng = createRng(9);
  const x = new Float32Array(n * s * s).map(() => rng.normal());
  const y = new Float32Array(n * s * s).map((_, i) => (i < s * s ? (rng.next() < 0.3 ? 1 : 0) : rng.next()));
  const w = new Float32Array(n * s * s).map((_, i) => (i < 2 * s * s ? rng.uniform(0, 2) : 0)); // image 2 ignored
  for (const loss of ['bce', 'balanced'] as const) {
    const net = await SegNet.create({
      arch: 'hnn',
      inChannels: 1,
      size: s,
      baseWidth: 4,
      depth: 1,
      seed: 3,
      loss,
    });
    try {
      const p = await net.predict(x, n);
      const want = expectedLoss(p, y, w, n, loss === 'balanced');
      const got = (await net.trainStep({ x, y, w, n })).loss;
      assert.ok(Math.abs(got - want) < 1e-4 * Math.max(1, want), `${loss}: engine ${got}, expected ${want}`);
    } finally {
      net.dispose();
    }
  }
});
