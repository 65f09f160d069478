/**
 * The native seam cannot abort: every failure code is provoked for real (bounds, memory refused before
 * allocation, memory failing inside libtorch, OpenCV and an input copy on the JS thread, a libtorch error)
 * and every raw addon entry point is fed wrong types and shapes. Each comes back as a coded error and the
 * process survives. Cases that could kill the process run in a child (this file, re-run with
 * R3D_SEAM_CHILD set), whose exit code is asserted.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NATIVE_LIMITS, SegNet, engineInfo, grabCut, grabCutWithStatus } from '../src/model/binding.js';
import { nativeAddon, type NativeSegNet, type NetConfig } from '../src/model/native.js';
import { expectCode } from './helpers/expect-code.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const REPO = fileURLToPath(new URL('..', import.meta.url));

/** Runs `fn` with RECIST3D_MEMORY_LIMIT_MB set (the addon reads it at each call, on the JS thread). */
async function withMemoryLimit<T>(mb: string, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.RECIST3D_MEMORY_LIMIT_MB;
  process.env.RECIST3D_MEMORY_LIMIT_MB = mb;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.RECIST3D_MEMORY_LIMIT_MB;
    else process.env.RECIST3D_MEMORY_LIMIT_MB = saved;
  }
}

/** Runs this file as a child in `mode`; returns its parsed last stdout line after asserting exit code 0. */
function runChild(mode: string, env: NodeJS.ProcessEnv = {}): unknown {
  const r = spawnSync(process.execPath, ['--import', 'tsx', THIS_FILE], {
    cwd: REPO,
    env: { ...process.env, ...env, R3D_SEAM_CHILD: mode },
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `child ${mode} exited with ${r.status} (signal ${r.signal}):\n${r.stderr}`);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last);
}

const CHILDREN: Record<string, () => Promise<unknown>> = { fuzz: fuzzRawAddon, rlimit: memoryRunsOut };

if (process.env.R3D_SEAM_CHILD) {
  const run = CHILDREN[process.env.R3D_SEAM_CHILD];
  if (!run) throw new Error(`unknown R3D_SEAM_CHILD ${process.env.R3D_SEAM_CHILD}`);
  process.stdout.write(`${JSON.stringify(await run())}\n`);
} else {
  registerTests();
}

function registerTests(): void {
  test('the bounds checked in JS are the ones the addon enforces', () => {
    assert.deepEqual({ ...nativeAddon().limits }, { ...NATIVE_LIMITS });
  });

  test('SegNet.create initialises the weights off the JS thread: the event loop keeps turning meanwhile', async () => {
    let ticks = 0;
    let spinning = true;
    const spin = () => {
      if (!spinning) return;
      ticks++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const t0 = performance.now();
    // ~7.7M parameters: initialising them takes tens of milliseconds at least.
    const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: 64, baseWidth: 64, depth: 4 });
    const ms = performance.now() - t0;
    spinning = false;
    try {
      assert.ok(net.parameterCount() > 7e6);
      assert.ok(ticks >= 2, `the event loop turned ${ticks} times during a ${ms.toFixed(0)} ms creation`);
    } finally {
      net.dispose();
    }
  });

  test('counts outside the bounds are E_NATIVE_ARG in JS and again in C++ (depth 33 no longer wraps)', async () => {
    const base = { arch: 'unet' as const, inChannels: 1, size: 64, baseWidth: 4 };
    const cases: [Partial<NetConfig>, RegExp][] = [
      [{ depth: 33 }, /config\.depth/],
      [{ depth: 17 }, /config\.depth/],
      [{ size: 8, depth: 5 }, /too small for depth 5/],
      [{ size: NATIVE_LIMITS.maxSize + 1 }, /config\.size/],
      [{ inChannels: NATIVE_LIMITS.maxChannels + 1 }, /config\.inChannels/],
      [{ baseWidth: NATIVE_LIMITS.maxBaseWidth + 1 }, /config\.baseWidth/],
    ];
    const addon = nativeAddon();
    for (const [change, msg] of cases) {
      const config = { ...base, ...change };
      await expectCode(() => SegNet.create(config), 'E_NATIVE_ARG', msg);
      // The same config straight to the addon, past the JS checks: C++ refuses it too.
      const full = { depth: 4, seed: 0, learningRate: 1e-3, loss: 'bce' as const, ...config };
      assert.throws(
        () => addon.createSegNet(full),
        (e: { code?: string }) => e.code === 'E_NATIVE_ARG',
        JSON.stringify(change),
      );
    }
    const net = await SegNet.create({ ...base, depth: 2 });
    try {
      const x = new Float32Array(64 * 64);
      await expectCode(() => net.predict(x, 1, { batchSize: 2 ** 31 }), 'E_NATIVE_ARG', /batchSize/);
      await expectCode(
        () => net.trainEpoch({ x, y: x, n: 1 }, { batchSize: 1, seed: -1 }),
        'E_NATIVE_ARG',
        /seed/,
      );
    } finally {
      net.dispose();
    }
    const img = new Uint8Array(3 * 16);
    const tri = new Uint8Array(16);
    await expectCode(
      () =>
        grabCut({ images: img, trimaps: tri, n: 1, h: 4, w: 4, iterations: NATIVE_LIMITS.maxIterations + 1 }),
      'E_NATIVE_ARG',
      /iterations/,
    );
    await expectCode(
      () => grabCut({ images: img, trimaps: tri, n: 1, h: 8193, w: 8193, iterations: 1 }),
      'E_NATIVE_ARG',
      /exceed the 67108864 pixels/,
    );
  });

  test('E_NATIVE_OOM before allocation: a net of size 65536, a batch, a predict and a GrabCut too big for the memory limit', async () => {
    // 64 GiB for the first case keeps it independent of this machine's RAM (the estimate is 144 GiB).
    await withMemoryLimit(String(64 * 1024), () =>
      expectCode(
        () => SegNet.create({ arch: 'unet', inChannels: 1, size: 65536, baseWidth: 4 }),
        'E_NATIVE_OOM',
        /SegNet of size 65536.*would need at least 144 GiB.*more than the [\d.]+ GiB.*smaller size, baseWidth or depth/,
      ),
    );
    const S = 64;
    const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: S, baseWidth: 16, depth: 3 });
    try {
      const n = 256;
      const data = { x: new Float32Array(n * S * S), y: new Float32Array(n * S * S), n };
      await withMemoryLimit('64', async () => {
        await expectCode(
          () => net.trainEpoch(data, { batchSize: 256, seed: 0 }),
          'E_NATIVE_OOM',
          /trainEpoch with batchSize 256 would need at least .* MiB.*more than the 64 MiB.*smaller batchSize/,
        );
        await expectCode(
          () => net.predict(data.x, n, { batchSize: n }),
          'E_NATIVE_OOM',
          /predict of 256 images with batchSize 256/,
        );
        await expectCode(
          () =>
            grabCut({
              images: new Uint8Array(2048 * 2048 * 3),
              trimaps: new Uint8Array(2048 * 2048),
              n: 1,
              h: 2048,
              w: 2048,
              iterations: 1,
            }),
          'E_NATIVE_OOM',
          /grabCut of 1 images of 2048x2048/,
        );
        // Same data, a batch that fits: the net was never touched by the refused calls.
        const ok = await net.trainEpoch(data, { batchSize: 8, seed: 0, maxSamples: 16 });
        assert.equal(ok.steps, 2);
      });
    } finally {
      net.dispose();
    }
    await withMemoryLimit('lots', () =>
      expectCode(
        async () => engineInfo(),
        'E_NATIVE_ARG',
        /RECIST3D_MEMORY_LIMIT_MB must be a positive integer/,
      ),
    );
    assert.ok(engineInfo().memoryLimit > 0);
  });

  test('E_NATIVE_OOM after allocation: an input copy on the JS thread, libtorch and OpenCV running out of address space', (t) => {
    if (!existsSync('/usr/bin/prlimit')) return t.skip('prlimit (util-linux) is not installed');
    // A fixed mmap threshold makes every large allocation its own mapping, so that what fits under the cap
    // follows from the sizes alone (glibc otherwise serves some from arenas reserved earlier).
    const r = runChild('rlimit', { GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072' }) as Record<
      string,
      { code?: string; message?: string; ok?: boolean }
    >;
    for (const k of ['copyOnJsThread', 'torchAllocator', 'grabCutOpenCv']) {
      assert.equal(r[k]?.code, 'E_NATIVE_OOM', `${k}: ${JSON.stringify(r[k])}`);
    }
    assert.match(r.copyOnJsThread.message ?? '', /SegNet\.predict: out of memory \(std::bad_alloc\)/);
    assert.match(r.torchAllocator.message ?? '', /DefaultCPUAllocator: can't allocate memory/);
    // A cv::Exception thrown by OpenCV's own allocator inside cv::grabCut, with the image it was cutting.
    assert.match(
      r.grabCutOpenCv.message ?? '',
      /grabCut: image 0 \(4096x4096\): OpenCV\(.*\).*Insufficient memory.*Failed to allocate/,
    );
    assert.ok(r.afterwards?.ok, 'the net still predicts after every failure');
  });

  test('E_NATIVE_TORCH: a libtorch error (BatchNorm with one value per channel) is reported and the net trains on', async () => {
    // size 4 at depth 3 leaves 1x1 maps at the bottom level; with one image BatchNorm has one value per channel.
    const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: 4, baseWidth: 4, depth: 3 });
    try {
      const err = await expectCode(
        () => net.trainStep({ x: new Float32Array(16), y: new Float32Array(16), n: 1 }),
        'E_NATIVE_TORCH',
        /SegNet\.trainStep: Expected more than 1 value per channel when training, got input size \[1, 16, 1, 1\]/,
      );
      assert.doesNotMatch(err.message, /Exception raised from|frame #/, 'no C++ backtrace in the message');
      const ok = await net.trainStep({ x: new Float32Array(32), y: new Float32Array(32), n: 2 });
      assert.ok(Number.isFinite(ok.loss));
    } finally {
      net.dispose();
    }
  });

  test('GrabCut: a trimap OpenCV cannot seed is a per-image status, not a failure of the batch', async () => {
    // cv::grabCut itself throws (kmeans needs >= 5 samples per side) on such trimaps; the engine keeps them
    // from reaching it and reports the fallback per image. Out of memory fails the call (previous test).
    const h = 8;
    const images = new Uint8Array(2 * h * h * 3).map((_, i) => (i * 37) % 251);
    const trimaps = new Uint8Array(2 * h * h).fill(2);
    trimaps.fill(3, 0, 20); // image 0: 20 PR_FG, 44 PR_BG -> GrabCut runs
    trimaps.fill(3, h * h, h * h + 4); // image 1: 4 PR_FG -> status NO_FOREGROUND
    const r = await grabCutWithStatus({ images, trimaps, n: 2, h, w: h, iterations: 2 });
    assert.deepEqual(Array.from(r.status), [0, 1]);
  });

  test('every raw addon entry point answers wrong types and shapes with a coded error and the process lives on', () => {
    const r = runChild('fuzz') as {
      cases: number;
      uncoded: string[];
      accepted: string[];
      codes: Record<string, number>;
      wrongThis: string[];
      alive: boolean;
    };
    assert.deepEqual(r.accepted, [], 'calls that should have been refused');
    assert.deepEqual(r.uncoded, [], 'errors without an E_NATIVE_* or E_DIST* code');
    assert.equal(r.codes.E_DIST, 1, 'allReduceMean without a group');
    assert.ok(r.cases > 200, `only ${r.cases} cases ran`);
    assert.ok(
      (r.codes.E_NATIVE_ARG ?? 0) > 150 && (r.codes.E_NATIVE_SHAPE ?? 0) > 5,
      JSON.stringify(r.codes),
    );
    assert.ok((r.codes.E_NATIVE_DISPOSED ?? 0) >= 5, JSON.stringify(r.codes));
    // A method called on something that is not a SegNet is refused by V8 before it reaches the addon.
    assert.equal(r.wrongThis.length, 3);
    for (const e of r.wrongThis) assert.match(e, /^TypeError: Illegal invocation/);
    assert.ok(r.alive, 'a fresh net still predicts afterwards');
  });
}

// ---------------------------------------------------------------------------------------------------------
// Children

/** Address space capped a little above what is in use: the next big allocations fail for real. */
async function memoryRunsOut(): Promise<unknown> {
  const vmSize = () => Number(/VmSize:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
  const S = 128;
  const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: S, baseWidth: 16, depth: 3 });
  // Warm up the threads that will allocate (torch thread, libuv workers), so that their stacks exist before
  // the cap.
  await net.predict(new Float32Array(2 * S * S), 2);
  const G = 4096;
  const images = new Uint8Array(G * G * 3);
  const trimaps = new Uint8Array(G * G).fill(2).fill(3, 0, (G * G) / 2);
  await grabCutWithStatus({
    images: images.slice(0, 64 * 64 * 3),
    trimaps: trimaps.slice(0, 4096),
    n: 1,
    h: 64,
    w: 64,
    iterations: 1,
  });
  const N = 6400; // 400 MiB of input: its copy cannot fit under a 200 MiB cap
  const big = new Float32Array(N * S * S);
  /** Runs `fn` with the soft address-space limit `headroom` bytes above what is mapped now, then lifts it. */
  const capped = async (headroom: number, fn: () => Promise<unknown>) => {
    const setCap = (soft: string) => execFileSync('prlimit', ['--pid', String(process.pid), `--as=${soft}:`]);
    setCap(String(vmSize() + headroom));
    try {
      await fn();
      return { ok: true };
    } catch (e) {
      return { code: (e as { code?: string }).code, message: (e as Error).message };
    } finally {
      setCap('unlimited');
    }
  };
  return {
    // Room for GrabCut's copies and masks (6 bytes a pixel, less than that in practice) but not for its
    // 64 MiB component index map as well: the allocation that fails is OpenCV's own, inside cv::grabCut.
    grabCutOpenCv: await capped(6 * G * G, () =>
      grabCutWithStatus({ images, trimaps, n: 1, h: G, w: G, iterations: 1 }),
    ),
    copyOnJsThread: await capped(200 * 2 ** 20, () => net.predict(big, N, { batchSize: 1 })),
    // 256 images in one batch: each first-level feature map alone is 256 MiB.
    torchAllocator: await capped(200 * 2 ** 20, () =>
      net.predict(big.subarray(0, 256 * S * S), 256, { batchSize: 256 }),
    ),
    afterwards: await capped(200 * 2 ** 20, () => net.predict(big.subarray(0, 2 * S * S), 2)),
  };
}

/** Wrong types and shapes for every raw entry point; collects what each call did. */
async function fuzzRawAddon(): Promise<unknown> {
  const addon = nativeAddon();
  const codes: Record<string, number> = {};
  const uncoded: string[] = [];
  const accepted: string[] = [];
  let cases = 0;
  const call = async (label: string, fn: () => unknown) => {
    cases++;
    try {
      await fn();
      accepted.push(label);
    } catch (e) {
      const code = (e as { code?: unknown } | null)?.code;
      if (typeof code === 'string' && /^E_(NATIVE_|DIST)/.test(code)) codes[code] = (codes[code] ?? 0) + 1;
      else uncoded.push(`${label}: ${String(e)}`);
    }
  };

  const notNumbers: unknown[] = ['1', NaN, Infinity, -Infinity, null, undefined, {}, [], true, 10n, () => 1];
  /** Not an integer in [min, max]. */
  const badInt = (min: number, max: number) => [...notNumbers, min - 1, min + 0.5, max + 1, 1e300, -1e300];
  const notU8: unknown[] = [
    'x',
    {},
    null,
    undefined,
    [1, 2],
    new Float32Array(768),
    new Int8Array(768),
    new Uint8ClampedArray(768),
    new Uint16Array(768),
  ];
  const notF32: unknown[] = [
    'x',
    {},
    null,
    [0.5],
    new Float64Array(256),
    new Uint8Array(256),
    new Int32Array(256),
  ];
  /** Each argument of `good` replaced by each bad value, plus too few and too many arguments. */
  const mutate = async (
    label: string,
    good: unknown[],
    bad: unknown[][],
    fn: (...a: unknown[]) => unknown,
  ) => {
    for (let i = 0; i < good.length; i++) {
      for (const v of bad[i]) {
        const args = [...good];
        args[i] = v;
        await call(`${label} arg ${i} = ${describe(v)}`, () => fn(...args));
      }
    }
    if (good.length > 0) await call(`${label} missing args`, () => fn(...good.slice(0, -1)));
    await call(`${label} extra arg`, () => fn(...good, 1, 2));
  };

  // grabCut(images, trimaps, n, h, w, iterations)
  const h = 16;
  const gc = (...a: unknown[]) => (addon.grabCut as (...x: unknown[]) => unknown)(...a);
  await mutate(
    'grabCut',
    [new Uint8Array(h * h * 3), new Uint8Array(h * h), 1, h, h, 1],
    [
      [...notU8, new Uint8Array(h * h * 3 - 1)],
      [...notU8, new Uint8Array(h * h + 1), new Uint8Array(h * h).fill(4)],
      [...badInt(0, NATIVE_LIMITS.maxCount), 2],
      [...badInt(1, NATIVE_LIMITS.maxSize), 8],
      [...badInt(1, NATIVE_LIMITS.maxSize), 8],
      badInt(1, NATIVE_LIMITS.maxIterations),
    ],
    gc,
  );
  await call('grabCut huge n*h*w with empty arrays', () =>
    gc(new Uint8Array(0), new Uint8Array(0), 2 ** 30, 8192, 8192, 1),
  );

  // engineInfo(), setThreads(n)
  await call('engineInfo extra arg', () => (addon.engineInfo as (...x: unknown[]) => unknown)('x'));
  await mutate('setThreads', [1], [badInt(1, NATIVE_LIMITS.maxThreads)], (...a) =>
    (addon.setThreads as (...x: unknown[]) => unknown)(...a),
  );

  // the process group: a good config is never called here (it would wait for a job)
  const group = { masterAddr: '127.0.0.1', masterPort: 1, rank: 0, worldSize: 2, timeoutMs: 10 };
  const init = (...a: unknown[]) => (addon.initProcessGroup as (...x: unknown[]) => unknown)(...a);
  await mutate('initProcessGroup', [group], [['x', 5, null, undefined, [], () => group]], init);
  const badGroup: Record<string, unknown[]> = {
    masterAddr: [5, '', 'a\0b', null, undefined],
    masterPort: badInt(1, 65535),
    worldSize: badInt(1, 2 ** 20),
    rank: badInt(0, 1),
    timeoutMs: badInt(1, 7 * 24 * 3600 * 1000),
  };
  for (const [key, values] of Object.entries(badGroup)) {
    for (const v of values)
      await call(`initProcessGroup config.${key} = ${describe(v)}`, () => init({ ...group, [key]: v }));
  }
  const reduce = (...a: unknown[]) => (addon.allReduceMean as (...x: unknown[]) => unknown)(...a);
  await mutate(
    'allReduceMean',
    [new Float64Array(2)],
    [['x', null, undefined, [1, 2], new Float32Array(2), new BigInt64Array(2)]],
    reduce,
  );
  await call('allReduceMean without a group', () => reduce(new Float64Array(2)));
  await call('processGroupInfo extra arg', () => (addon.processGroupInfo as (...x: unknown[]) => unknown)(1));
  await call('destroyProcessGroup extra arg', () =>
    (addon.destroyProcessGroup as (...x: unknown[]) => unknown)(1),
  );

  // createSegNet(config)
  const S = 16;
  const config = {
    arch: 'unet',
    inChannels: 1,
    size: S,
    baseWidth: 4,
    depth: 2,
    seed: 0,
    learningRate: 1e-3,
    loss: 'bce',
  };
  const create = (...a: unknown[]) => (addon.createSegNet as (...x: unknown[]) => unknown)(...a);
  await mutate(
    'createSegNet',
    [config],
    [['x', 5, null, undefined, [], new Uint8Array(4), () => config]],
    create,
  );
  const badFields: Record<string, unknown[]> = {
    arch: [...notNumbers, 'vgg', 5],
    loss: ['dice', 1, undefined],
    inChannels: badInt(1, NATIVE_LIMITS.maxChannels),
    size: [...badInt(1, NATIVE_LIMITS.maxSize), 1],
    baseWidth: badInt(1, NATIVE_LIMITS.maxBaseWidth),
    depth: [...badInt(1, NATIVE_LIMITS.maxDepth), 33, 64],
    seed: [...badInt(0, NATIVE_LIMITS.maxSafeInteger), 2 ** 60],
    learningRate: [...notNumbers, 0, -1e-3],
  };
  for (const [key, values] of Object.entries(badFields)) {
    for (const v of values)
      await call(`createSegNet config.${key} = ${describe(v)}`, () => create({ ...config, [key]: v }));
  }

  // A live handle and every method
  const net = (await addon.createSegNet(config as never)) as NativeSegNet &
    Record<string, (...a: unknown[]) => unknown>;
  const m =
    (name: string) =>
    (...a: unknown[]) =>
      net[name](...a);
  const x = new Float32Array(2 * S * S);
  await mutate(
    'trainStep',
    [x, x, undefined, 2],
    [
      [...notF32, new Float32Array(2 * S * S - 1)],
      [...notF32, new Float32Array(S * S)],
      [...notF32.filter((v) => v !== null && v !== undefined), null, new Float32Array(3)],
      [...badInt(1, NATIVE_LIMITS.maxCount), 3],
    ],
    m('trainStep'),
  );
  const epochOpts = {
    batchSize: 2,
    seed: 0,
    shuffle: true,
    maxSamples: 0,
    flip: false,
    rot90: false,
    scale: 0,
    intensity: 0,
    shift: 0,
  };
  // onProgress is optional, so the "good" call has 5 arguments (too few is then 4, too many 7).
  await mutate(
    'trainEpoch',
    [x, x, undefined, 2, epochOpts],
    [[new Float32Array(5)], [null], [new Uint8Array(512)], [NaN, 0], ['opts', null, 5, []]],
    m('trainEpoch'),
  );
  for (const v of ['not a function', 5, {}, null]) {
    await call(`trainEpoch onProgress = ${describe(v)}`, () =>
      net.trainEpoch(x, x, undefined, 2, epochOpts, v as never),
    );
  }
  const badOpts: Record<string, unknown[]> = {
    batchSize: badInt(1, NATIVE_LIMITS.maxCount),
    seed: [...badInt(0, NATIVE_LIMITS.maxSafeInteger), 2 ** 60],
    shuffle: ['yes', 1, null, undefined],
    maxSamples: [...badInt(0, NATIVE_LIMITS.maxSafeInteger), 2 ** 60],
    flip: [1, 'true', undefined],
    rot90: [0, null],
    scale: [...notNumbers, -0.1, 1, 5],
    intensity: [...notNumbers, -1, 1],
  };
  for (const [key, values] of Object.entries(badOpts)) {
    for (const v of values)
      await call(`trainEpoch options.${key} = ${describe(v)}`, () =>
        net.trainEpoch(x, x, undefined, 2, { ...epochOpts, [key]: v } as never, undefined),
      );
  }
  await mutate(
    'predict',
    [x, 2, 1],
    [
      [...notF32, new Float32Array(3)],
      [...badInt(0, NATIVE_LIMITS.maxCount), 3],
      badInt(1, NATIVE_LIMITS.maxCount),
    ],
    m('predict'),
  );
  await call('predict with n = 2^30 and an empty array', () => net.predict(new Float32Array(0), 2 ** 30, 1));
  for (const method of ['save', 'load']) {
    await mutate(method, ['/tmp/x.pt'], [[5, '', 'a\0b', null, undefined, {}, ['p']]], m(method));
  }
  for (const method of ['parameterCount', 'parameters', 'getLearningRate', 'dispose'])
    await call(`${method} extra arg`, () => m(method)(1));
  await mutate('setLearningRate', [1e-3], [[...notNumbers, 0, -1]], m('setLearningRate'));
  // The constructor is reachable through any handle; it refuses to make one without the factory.
  const Ctor = (net as unknown as { constructor: new (...a: unknown[]) => unknown }).constructor;
  await call('new SegNet()', () => new Ctor());
  await call('new SegNet(config)', () => new Ctor(config));
  // A method called on something that is not a SegNet.
  const wrongThis: string[] = [];
  for (const self of [{}, 5, undefined]) {
    try {
      net.predict.call(self as never, x, 2, 1);
      wrongThis.push('accepted');
    } catch (e) {
      wrongThis.push(String(e));
    }
  }
  assert.ok(!wrongThis.includes('accepted'), 'a method ran on a foreign this');
  // After dispose every method that needs the engine is E_NATIVE_DISPOSED.
  net.dispose();
  await call('disposed trainStep', () => net.trainStep(x, x, undefined, 2));
  await call('disposed trainEpoch', () => net.trainEpoch(x, x, undefined, 2, epochOpts, undefined));
  await call('disposed predict', () => net.predict(x, 2, 1));
  await call('disposed save', () => net.save('/tmp/x.pt'));
  await call('disposed parameterCount', () => net.parameterCount());
  await call('disposed parameters', () => net.parameters());
  await call('disposed setLearningRate', () => net.setLearningRate(1e-3));

  const fresh = await addon.createSegNet(config as never);
  const out = await fresh.predict(x, 2, 2);
  fresh.dispose();
  return { cases, codes, uncoded, accepted, wrongThis, alive: out.length === 2 * S * S };
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'function';
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
