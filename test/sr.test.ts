/**
 * The stacked GAN super-resolution (src/sr/, native/sr_*.cc): the degradations, the networks' shapes, a few
 * training steps lowering the loss, save/load and resume giving identical results, the trainer's resume, the
 * model folder's checks and the bad-input errors. Tiny networks and images, so the file runs in seconds.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Recist3dError, type ErrorCode } from '../src/errors.js';
import { SrGan, srPassBatch } from '../src/model/binding.js';
import {
  addNoise,
  compressContrast,
  degradeForDenoiser,
  degradeForEnhancer,
  degradeWith,
  gaussianBlur,
  resizeBicubic,
  type GrayImage,
} from '../src/sr/degrade.js';
import { superResolve, superResolveVolume } from '../src/sr/apply.js';
import { loadSrModels, readStageSidecar } from '../src/sr/model-files.js';
import { trainStackedGan, type SrTrainOptions } from '../src/sr/train.js';
import { createRng } from '../src/util/random.js';
import { expectCode } from './helpers/expect-code.js';
import { TINY, photos, scene } from './helpers/sr-scenes.js';
import type { Volume } from '../src/types/volume.js';

function stats(a: Float32Array): { mean: number; std: number } {
  let m = 0;
  for (const v of a) m += v;
  m /= a.length;
  let s = 0;
  for (const v of a) s += (v - m) ** 2;
  return { mean: m, std: Math.sqrt(s / a.length) };
}

test('degradations: noise level, contrast compression, blur and bicubic resize keep shapes and means', () => {
  const rng = createRng(1);
  const flat: GrayImage = { h: 64, w: 64, data: new Float32Array(64 * 64).fill(0.5) };
  const noisy = addNoise(flat, 0.1, rng);
  assert.ok(Math.abs(stats(noisy.data).std - 0.1) < 0.01, `noise std ${stats(noisy.data).std}`);
  const img = scene(40, 50);
  const c = compressContrast(img, 2);
  assert.ok(Math.abs(stats(c.data).std - stats(img.data).std / 2) < 1e-6);
  assert.ok(Math.abs(stats(c.data).mean - stats(img.data).mean) < 1e-6);
  const b = gaussianBlur(img, 2);
  assert.ok(stats(b.data).std < stats(img.data).std, 'blur lowers the contrast of edges');
  assert.ok(Math.abs(stats(b.data).mean - stats(img.data).mean) < 0.01);
  const up = resizeBicubic(flat, 96, 80);
  assert.equal(up.data.length, 96 * 80);
  assert.ok(
    up.data.every((v) => Math.abs(v - 0.5) < 1e-6),
    'a constant image stays constant',
  );
  // s = 1, blur almost 0 and kappa = 1 leave the image as it was
  const same = degradeWith(img, { scale: 1, blurSigma: 1e-3, contrast: 1 });
  assert.ok(same.data.every((v, i) => Math.abs(v - img.data[i]) < 1e-5));
  const d1 = degradeForDenoiser(img, createRng(2));
  assert.ok(d1.sigma > 0 && d1.sigma <= 50 / 255);
  const d2 = degradeForEnhancer({ h: 128, w: 128, data: resizeBicubic(img, 128, 128).data }, createRng(3));
  assert.equal(d2.input.data.length, 128 * 128);
  const { scale, blurSigma, contrast } = d2.degradation;
  assert.ok(scale >= 1 && scale <= 4 && blurSigma > 0 && blurSigma <= 3 && contrast >= 1 && contrast <= 3);
});

test('SrGan: fully convolutional, any size and zoom, untrained close to the identity; parameter counts grow with the paper sizes', async () => {
  const net = await SrGan.create({ ...TINY, seed: 3 });
  try {
    const img = scene(13, 21);
    const out = await net.apply(img.data, 1, 13, 21);
    assert.equal(out.length, 13 * 21);
    let diff = 0;
    for (let i = 0; i < out.length; i++) diff = Math.max(diff, Math.abs(out[i] - img.data[i]));
    assert.ok(diff < 0.5, `global residual: an untrained generator stays near its input (max diff ${diff})`);
    const two = await net.apply(new Float32Array(2 * 10 * 12), 2, 10, 12, { zoom: 2.5, batchSize: 1 });
    assert.equal(two.length, 2 * 25 * 30);
    assert.equal((await net.apply(new Float32Array(0), 0, 8, 8)).length, 0);
    // the images per forward pass (default srPassBatch) change the speed, not the result
    const five = new Float32Array(5 * 13 * 21);
    for (let i = 0; i < 5; i++) five.set(scene(13, 21, 40 + i).data, i * 13 * 21);
    const byOne = await net.apply(five, 5, 13, 21, { batchSize: 1 });
    for (const batchSize of [undefined, 2, 5]) {
      const other = await net.apply(five, 5, 13, 21, batchSize === undefined ? {} : { batchSize });
      let d = 0;
      for (let i = 0; i < other.length; i++) d = Math.max(d, Math.abs(other[i] - byOne[i]));
      assert.ok(d < 1e-5, `batchSize ${batchSize}: max diff ${d}`);
    }
    assert.equal(srPassBatch(64, 64), 2);
    assert.equal(srPassBatch(128, 128), 1);
    assert.equal(srPassBatch(32, 32, 2), 2);
  } finally {
    net.dispose();
  }
  const g1 = await SrGan.create({ blocks: 9, width: 64, discWidth: 64, dense: 1024 });
  const g2 = await SrGan.create({ blocks: 16, width: 64, discWidth: 64, dense: 1024 });
  try {
    // generator: head 1*64*9+64 + PReLU 64; per block 2*(64*64*9) + 2*BN(2*64) + PReLU 64; merge 64*64*9 + BN 128; tail 64*9+1
    const block = 2 * 64 * 64 * 9 + 4 * 64 + 64;
    const rest = 64 * 9 + 64 + 64 + 64 * 64 * 9 + 128 + 64 * 9 + 1;
    assert.equal(g1.parameterCount().generator, 9 * block + rest);
    assert.equal(g2.parameterCount().generator, 16 * block + rest);
    assert.equal(g1.parameterCount().discriminator, g2.parameterCount().discriminator);
  } finally {
    g1.dispose();
    g2.dispose();
  }
});

/** n noisy/clean 24x24 pairs from scenes. */
function pairs(n: number, seed: number): { x: Float32Array; y: Float32Array } {
  const px = 24 * 24;
  const x = new Float32Array(n * px),
    y = new Float32Array(n * px);
  for (let i = 0; i < n; i++) {
    const clean = scene(24, 24, seed + i);
    y.set(clean.data, i * px);
    x.set(addNoise(clean, 0.1, createRng(seed * 100 + i)).data, i * px);
  }
  return { x, y };
}

test('SrGan: training steps lower the content loss; save/load gives identical output; a resumed run equals an uninterrupted one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-sr-'));
  const cfg = { ...TINY, width: 8, seed: 5, learningRate: 3e-3 };
  const batches = Array.from({ length: 6 }, (_, i) => pairs(4, 10 * i));
  const probe = pairs(2, 999);
  try {
    const a = await SrGan.create(cfg);
    const first = await a.trainStep(batches[0].x, batches[0].y, 4, 24, 24);
    for (const keys of ['generator', 'pixel', 'gradient', 'adversarial', 'discriminator'] as const)
      assert.ok(Number.isFinite(first[keys]) && first[keys] >= 0, `${keys} = ${first[keys]}`);
    let last = first;
    for (let r = 0; r < 5; r++) for (const b of batches) last = await a.trainStep(b.x, b.y, 4, 24, 24);
    assert.ok(last.pixel < first.pixel * 0.8, `pixel L1 ${first.pixel} -> ${last.pixel}`);
    const outA = await a.apply(probe.x, 2, 24, 24);
    await a.save(join(dir, 'a.pt'), 31);
    const b = await SrGan.create(cfg);
    assert.equal(await b.load(join(dir, 'a.pt')), 31, 'the step count comes back');
    assert.deepEqual(await b.apply(probe.x, 2, 24, 24), outA);
    // resume: 3 steps, save, load into a fresh net, 3 more == 6 steps straight (weights, BN stats, Adam moments),
    // ... with an apply in the middle: inference runs channels-last and must hand training back its weights as they were
    const straight = await SrGan.create(cfg);
    for (const [i, bt] of batches.entries()) {
      await straight.trainStep(bt.x, bt.y, 4, 24, 24);
      if (i === 2) await straight.apply(probe.x, 2, 24, 24);
    }
    const part = await SrGan.create(cfg);
    for (const bt of batches.slice(0, 3)) await part.trainStep(bt.x, bt.y, 4, 24, 24);
    await part.save(join(dir, 'part.pt'), 3);
    const resumed = await SrGan.create(cfg);
    await resumed.load(join(dir, 'part.pt'));
    for (const bt of batches.slice(3)) await resumed.trainStep(bt.x, bt.y, 4, 24, 24);
    assert.deepEqual(await resumed.apply(probe.x, 2, 24, 24), await straight.apply(probe.x, 2, 24, 24));
    // a checkpoint of other sizes is refused, naming both
    const other = await SrGan.create({ ...cfg, blocks: 2 });
    await expectCode(() => other.load(join(dir, 'a.pt')), 'E_NATIVE_SHAPE', /blocks=1.*blocks=2/);
    for (const n of [a, b, straight, part, resumed, other]) n.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('SrGan: bad input is a coded error, never an abort', async () => {
  await expectCode(() => SrGan.create({ ...TINY, width: 0 }), 'E_NATIVE_ARG', /width/);
  await expectCode(() => SrGan.create({ ...TINY, blocks: 1e6 }), 'E_NATIVE_ARG', /blocks/);
  await expectCode(() => SrGan.create({ ...TINY, advWeight: -1 }), 'E_NATIVE_ARG', /advWeight/);
  const net = await SrGan.create(TINY);
  try {
    const x = new Float32Array(16);
    await expectCode(() => net.trainStep(x, new Float32Array(15), 1, 4, 4), 'E_NATIVE_SHAPE', /y/);
    await expectCode(
      () => net.trainStep(Float32Array.of(...x.slice(1), NaN), x, 1, 4, 4),
      'E_NATIVE_ARG',
      /finite/,
    );
    await expectCode(() => net.apply(x, 1, 4, 4, { zoom: 0.5 }), 'E_NATIVE_ARG', /zoom/);
    await expectCode(() => net.apply(x, 2, 4, 4), 'E_NATIVE_SHAPE', /n\*h\*w/);
    await expectCode(() => net.load('/nonexistent/sr.pt'), 'E_NATIVE_IO', /not found/);
    const dir = await mkdtemp(join(tmpdir(), 'r3d-sr-bad-'));
    await writeFile(join(dir, 'junk.pt'), 'not a checkpoint');
    await expectCode(() => net.load(join(dir, 'junk.pt')), 'E_NATIVE_IO', /could not read/);
    await rm(dir, { recursive: true, force: true });
    // the raw addon re-checks what the TS layer checks
    const { nativeAddon } = await import('../src/model/native.js');
    const raw = await nativeAddon().createSrGan({
      ...TINY,
      seed: 0,
      learningRate: 1e-3,
      advWeight: 0,
      gradWeight: 1,
    });
    await expectCode(
      async () => {
        try {
          await raw.apply(x, 1, 4, 4, 99, 1);
        } catch (e) {
          throw new Recist3dError((e as { code: ErrorCode }).code, (e as Error).message);
        }
      },
      'E_NATIVE_ARG',
      /zoom/,
    );
    raw.dispose();
  } finally {
    net.dispose();
  }
});

test('trainStackedGan: G1 then G2 with sidecars; an interrupted run resumes to the same weights; loadSrModels checks completion', async () => {
  const root = await mkdtemp(join(tmpdir(), 'r3d-sr-train-'));
  const data = {
    photos: photos(3, 40),
    ct: photos(2, 36).map((p) => ({ ...p, kind: 'ct' as const })),
    ctWindowsHu: [[-160, 240] as const],
  };
  const opts: SrTrainOptions = {
    seed: 7,
    saveEvery: 2,
    logEvery: 2,
    stages: {
      g1: { ...TINY, steps: 4, batchSize: 2, crop: 16 },
      g2: { ...TINY, steps: 3, batchSize: 1, crop: 32 },
    },
  };
  try {
    const full = join(root, 'full');
    const r = await trainStackedGan(full, data, opts);
    assert.deepEqual(
      r.map((s) => [s.stage, s.status, s.stepsDone]),
      [
        ['g1', 'trained', 4],
        ['g2', 'trained', 3],
      ],
    );
    const g1 = await readStageSidecar(full, 'g1');
    assert.equal(g1?.task, 'denoise');
    assert.equal(g1?.training.fineTuneSteps, 1, 'the last quarter of the steps fine-tunes on CT');
    assert.deepEqual(g1?.data.ct, ['scene-0', 'scene-1']);
    assert.equal(g1?.losses.length, 2);
    // interrupted in G2 after its checkpoint at step 2, then rerun
    const cut = join(root, 'cut');
    await assert.rejects(
      trainStackedGan(cut, data, {
        ...opts,
        onStep: (stage, done) => {
          if (stage === 'g2' && done === 2) throw new Error('stop');
        },
      }),
      /stop/,
    );
    await expectCode(() => loadSrModels(cut), 'E_CHECKPOINT', /stage g2 .* stopped after 2 of 3 steps/);
    const again = await trainStackedGan(cut, data, opts);
    assert.deepEqual(
      again.map((s) => s.status),
      ['done', 'resumed'],
    );
    const probe = scene(24, 24, 42);
    const [mCut, mFull] = [await loadSrModels(cut), await loadSrModels(full)];
    assert.deepEqual(
      await superResolve(mCut, probe.data, 1, 24, 24),
      await superResolve(mFull, probe.data, 1, 24, 24),
    );
    for (const x of [mCut, mFull]) {
      x.g1.dispose();
      x.g2.dispose();
    }
    assert.deepEqual(
      (await readStageSidecar(cut, 'g2'))?.losses,
      (await readStageSidecar(full, 'g2'))?.losses,
    );
    // other sizes into the same folder are refused rather than mixed
    await expectCode(
      () =>
        trainStackedGan(cut, data, {
          ...opts,
          stages: { ...opts.stages, g1: { ...opts.stages!.g1, width: 6 } },
        }),
      'E_CHECKPOINT',
      /other sizes/,
    );
    // inference on images and on a volume (zoom 2 doubles the in-plane grid, keeps the extent)
    const m = await loadSrModels(full);
    const img = scene(20, 30);
    const s = await superResolve(m, img.data, 1, 20, 30, 2);
    assert.equal(s.denoised.length, 600);
    assert.equal(s.enhanced.length, 2400);
    const vol: Volume = {
      size: [30, 20, 3],
      spacingMm: [1, 1, 2],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      data: new Int16Array(1800).map((_, i) => (img.data[i % 600] * 400 - 160) | 0),
      meta: {},
    };
    const v = await superResolveVolume(m, vol, { windowHu: [-160, 240], zoom: 2 });
    assert.deepEqual(v.enhanced.size, [60, 40, 3]);
    assert.deepEqual(v.enhanced.spacingMm, [0.5, 0.5, 2]);
    assert.deepEqual(v.enhanced.origin, [-0.25, -0.25, 0]);
    for (const out of [v.denoised, v.enhanced])
      assert.ok(
        out.data.every((x) => x >= -160 - 1e-3 && x <= 240 + 1e-3),
        'HU back from the window, within it',
      );
    m.g1.dispose();
    m.g2.dispose();
    // a damaged weights file is refused by its hash
    const bytes = await readFile(join(full, 'g2.pt'));
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(join(full, 'g2.pt'), bytes);
    await expectCode(() => loadSrModels(full), 'E_CHECKPOINT', /differ|damaged/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('GrabCut-R-SR: GrabCut sees the stacked GAN enhanced ROI image; without sr the images are the originals', async () => {
  const { extractRoi } = await import('../src/geometry/roi.js');
  const { masksForRois } = await import('../src/pseudo/cohort.js');
  const ni = 64;
  const slice = new Int16Array(ni * ni);
  for (let j = 0; j < ni; j++)
    for (let i = 0; i < ni; i++) slice[j * ni + i] = (i - 32) ** 2 + (j - 30) ** 2 < 100 ? 60 : -40;
  const recist = {
    long: [
      [22, 30],
      [42, 30],
    ] as [[number, number], [number, number]],
    short: [
      [32, 21],
      [32, 39],
    ] as [[number, number], [number, number]],
  };
  const roi = extractRoi(slice, [ni, ni], recist, { sizePx: 48, window: [-160, 240] });
  const seen: Uint8Array[] = [];
  const spy = async (b: { images: Uint8Array; n: number; h: number; w: number }) => {
    seen.push(b.images.slice());
    return { masks: new Uint8Array(b.n * b.h * b.w), status: new Int8Array(b.n) };
  };
  await masksForRois([roi], { method: 'grabcut-r' }, spy);
  await masksForRois([roi], { method: 'grabcut-r', sr: undefined }, spy);
  const g1 = await SrGan.create({ ...TINY, seed: 1 });
  const g2 = await SrGan.create({ ...TINY, seed: 2 });
  try {
    await masksForRois([roi], { method: 'grabcut-r', sr: { g1, g2 } }, spy);
    const x = Float32Array.from(roi.image, (v) => v / 255);
    const { enhanced } = await superResolve({ g1, g2 }, x, 1, 48, 48);
    const expected = Uint8Array.from(enhanced, (v) => Math.round(255 * Math.min(1, Math.max(0, v))));
    const gray = (rgb: Uint8Array) => rgb.filter((_, i) => i % 3 === 0);
    assert.deepEqual(gray(seen[0]), roi.image, 'plain GrabCut-R cuts the original ROI');
    assert.deepEqual(seen[1], seen[0], 'sr: undefined changes nothing');
    assert.deepEqual(gray(seen[2]), expected, 'GrabCut-R-SR cuts the enhanced ROI');
    assert.notDeepEqual(gray(seen[2]), roi.image);
  } finally {
    g1.dispose();
    g2.dispose();
  }
});

test('CLI: sr and masks --method grabcut-r-sr refuse bad options with E_USAGE / E_CHECKPOINT', async () => {
  const { runCliWithStderr } = await import('./helpers/cli.js');
  const { registerSr } = await import('../src/cli/commands/sr.js');
  const { registerMasks } = await import('../src/cli/commands/masks.js');
  const dir = await mkdtemp(join(tmpdir(), 'r3d-sr-cli-'));
  try {
    const manifest = join(dir, 'm.csv');
    await writeFile(manifest, 'lesion_id,image\n');
    const code = (p: Promise<unknown>, c: ErrorCode, re: RegExp) => expectCode(() => p, c, re);
    await code(
      runCliWithStderr(registerMasks, [
        'masks',
        '--manifest',
        manifest,
        '--out',
        join(dir, 'o1'),
        '--method',
        'grabcut-r-sr',
      ]),
      'E_USAGE',
      /needs --sr DIR/,
    );
    await code(
      runCliWithStderr(registerMasks, [
        'masks',
        '--manifest',
        manifest,
        '--out',
        join(dir, 'o2'),
        '--sr',
        dir,
      ]),
      'E_USAGE',
      /--sr is used only by --method grabcut-r-sr/,
    );
    await code(
      runCliWithStderr(registerSr, ['sr', 'train', '--out', join(dir, 't'), '--preset', 'huge']),
      'E_USAGE',
      /--preset/,
    );
    await code(
      runCliWithStderr(registerSr, ['sr', 'train', '--out', join(dir, 't'), '--data', join(dir, 'nope')]),
      'E_FILE_NOT_FOUND',
      /--data/,
    );
    await code(
      runCliWithStderr(registerSr, [
        'sr',
        'apply',
        '--model',
        dir,
        '--image',
        join(dir, 'x.nii.gz'),
        '--out',
        join(dir, 'a'),
        '--window',
        '5,1',
      ]),
      'E_USAGE',
      /--window/,
    );
    const { writeNifti } = await import('../src/io/nifti.js');
    const img = join(dir, 'ct.nii.gz');
    await writeNifti(img, {
      size: [8, 8, 2],
      spacingMm: [1, 1, 1],
      origin: [0, 0, 0],
      direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      data: new Int16Array(128),
      meta: {},
    });
    await code(
      runCliWithStderr(registerSr, [
        'sr',
        'apply',
        '--model',
        join(dir, 'empty'),
        '--image',
        img,
        '--out',
        join(dir, 'a'),
      ]),
      'E_CHECKPOINT',
      /No trained SR stage g1/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('training photographs: the listed plasma-workspace-wallpapers JPEGs decode to large grey images; a folder without them is E_SR_DATA', async (t) => {
  const { PHOTO_FILES, WALLPAPER_DIR, loadPhotos } = await import('../src/sr/sources.js');
  const { existsSync } = await import('node:fs');
  if (!existsSync(join(WALLPAPER_DIR, PHOTO_FILES[0]))) {
    t.skip(`plasma-workspace-wallpapers is not installed (${WALLPAPER_DIR}); npm run setup installs it`);
    return;
  }
  const photos = await loadPhotos();
  assert.equal(photos.length, PHOTO_FILES.length);
  for (const p of photos) {
    assert.ok(p.w >= 1280 && p.h >= 1024, `${p.name}: ${p.w}x${p.h}`);
    const s = stats(p.data);
    assert.ok(s.mean > 0.05 && s.mean < 0.95 && s.std > 0.02, `${p.name}: mean ${s.mean}, std ${s.std}`);
  }
  const empty = await mkdtemp(join(tmpdir(), 'r3d-sr-photos-'));
  try {
    await expectCode(() => loadPhotos(empty), 'E_SR_DATA', /plasma-workspace-wallpapers/);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});
