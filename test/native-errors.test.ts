/**
 * Native engine errors: bad shapes, bad paths, corrupt checkpoints, disposed nets and a missing GPU all
 * reject with a Recist3dError carrying a stable code, a clear message and the caller's stack, and the
 * process survives to train afterwards.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Recist3dError, type ErrorCode } from '../src/errors.js';
import { SegNet, engineInfo, grabCut, setThreads } from '../src/model/binding.js';
import { nativeAddon } from '../src/model/native.js';

const S = 16;
const tmp = mkdtempSync(join(tmpdir(), 'recist3d-native-errors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function tinyNet(arch: 'unet' | 'hnn' = 'unet'): Promise<SegNet> {
  return SegNet.create({ arch, inChannels: 1, size: S, baseWidth: 4, depth: 2 });
}

/** Asserts `p` rejects (or `fn` throws) a Recist3dError with `code`, a message matching `msg`, and `caller` on the stack. */
async function expectNativeError(
  p: Promise<unknown> | (() => unknown),
  code: ErrorCode,
  msg: RegExp,
  caller: string,
) {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof Recist3dError, `expected a Recist3dError, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  assert.match(err.message, msg);
  assert.ok(err.stack?.includes(caller), `stack should name ${caller}:\n${err.stack}`);
}

test('wrong lengths to trainStep and predict are E_NATIVE_SHAPE with the expected size', async function shapeErrors() {
  const net = await tinyNet();
  try {
    const y = new Float32Array(2 * S * S);
    await expectNativeError(
      net.trainStep({ x: new Float32Array(2 * S * S - 1), y, n: 2 }),
      'E_NATIVE_SHAPE',
      /trainStep x to hold n\*c\*size\*size \(2\*1\*16\*16\) = 512 values but it holds 511/,
      'shapeErrors',
    );
    await expectNativeError(
      net.trainStep({ x: new Float32Array(2 * S * S), y, w: new Float32Array(3), n: 2 }),
      'E_NATIVE_SHAPE',
      /trainStep w/,
      'shapeErrors',
    );
    await expectNativeError(
      net.predict(new Float32Array(100), 1),
      'E_NATIVE_SHAPE',
      /predict x .* 256 values/,
      'shapeErrors',
    );
    await expectNativeError(
      net.trainStep({ x: new Float32Array(2 * S * S), y: y.fill(2), n: 2 }),
      'E_NATIVE_ARG',
      /y values in \[0, 1\]/,
      'shapeErrors',
    );
    // The process survives and the net still trains.
    const ok = await net.trainStep({ x: new Float32Array(2 * S * S), y: y.fill(0), n: 2 });
    assert.ok(Number.isFinite(ok.loss));
  } finally {
    net.dispose();
  }
});

test('the C++ side validates too: a direct addon call with a bad length is E_NATIVE_SHAPE', async function nativeSide() {
  const addon = nativeAddon();
  const raw = await addon.createSegNet({
    arch: 'unet',
    inChannels: 1,
    size: S,
    baseWidth: 4,
    depth: 2,
    seed: 0,
    learningRate: 1e-3,
    loss: 'bce',
  });
  try {
    assert.throws(
      () => raw.trainStep(new Float32Array(5), new Float32Array(S * S), undefined, 1),
      (e: { code?: string; message?: string }) =>
        e.code === 'E_NATIVE_SHAPE' && /x must hold/.test(e.message ?? ''),
    );
    // One worker per net at a time: a second call while the first runs is refused, not raced.
    const x = new Float32Array(S * S);
    const first = raw.trainStep(x, x, undefined, 1);
    assert.throws(
      () => raw.predict(x, 1, 1),
      (e: { code?: string }) => e.code === 'E_NATIVE_ARG',
    );
    assert.ok(Number.isFinite(await first));
  } finally {
    raw.dispose();
  }
});

test('grabCut rejects wrong lengths and labels', async function grabCutErrors() {
  const images = new Uint8Array(S * S * 3);
  await expectNativeError(
    grabCut({ images, trimaps: new Uint8Array(S * S - 2), n: 1, h: S, w: S, iterations: 1 }),
    'E_NATIVE_SHAPE',
    /trimaps to hold n\*h\*w \(1\*16\*16\) = 256/,
    'grabCutErrors',
  );
  await expectNativeError(
    grabCut({ images: new Uint8Array(7), trimaps: new Uint8Array(S * S), n: 1, h: S, w: S, iterations: 1 }),
    'E_NATIVE_SHAPE',
    /images/,
    'grabCutErrors',
  );
  await expectNativeError(
    grabCut({ images, trimaps: new Uint8Array(S * S).fill(7), n: 1, h: S, w: S, iterations: 1 }),
    'E_NATIVE_ARG',
    /label 7 at image 0, pixel 0/,
    'grabCutErrors',
  );
  await expectNativeError(
    grabCut({ images, trimaps: new Uint8Array(S * S), n: 1, h: S, w: S, iterations: 0 }),
    'E_NATIVE_ARG',
    /iterations/,
    'grabCutErrors',
  );
});

test('load: missing file is E_NATIVE_IO, garbage is E_NATIVE_IO, another architecture is E_NATIVE_SHAPE', async function loadErrors() {
  const net = await tinyNet();
  const other = await tinyNet('hnn');
  try {
    const missing = join(tmp, 'nope', 'x.pt');
    await expectNativeError(
      net.load(missing),
      'E_NATIVE_IO',
      new RegExp(`checkpoint not found: ${missing}`),
      'loadErrors',
    );
    const garbage = join(tmp, 'garbage.pt');
    writeFileSync(garbage, 'not a checkpoint');
    await expectNativeError(net.load(garbage), 'E_NATIVE_IO', /could not read checkpoint/, 'loadErrors');
    const hnnPath = join(tmp, 'hnn.pt');
    await other.save(hnnPath);
    await expectNativeError(
      net.load(hnnPath),
      'E_NATIVE_SHAPE',
      /arch=hnn.*but this SegNet is \{arch=unet/,
      'loadErrors',
    );
    await expectNativeError(
      net.save(join(tmp, 'no', 'dir', 'x.pt')),
      'E_NATIVE_IO',
      /could not write checkpoint/,
      'loadErrors',
    );
  } finally {
    net.dispose();
    other.dispose();
  }
});

test('calls after dispose reject E_NATIVE_DISPOSED', async function disposedErrors() {
  const net = await tinyNet();
  net.dispose();
  await expectNativeError(
    net.predict(new Float32Array(S * S), 1),
    'E_NATIVE_DISPOSED',
    /disposed/,
    'disposedErrors',
  );
  await expectNativeError(() => net.parameterCount(), 'E_NATIVE_DISPOSED', /disposed/, 'disposedErrors');
});

test('bad configs, thread counts and a missing GPU are clear errors', async function configErrors() {
  await expectNativeError(
    () => SegNet.create({ arch: 'unet', inChannels: 1, size: 0, baseWidth: 4 }),
    'E_NATIVE_ARG',
    /config.size/,
    'configErrors',
  );
  await expectNativeError(
    () => SegNet.create({ arch: 'unet', inChannels: 1, size: 8, baseWidth: 4, depth: 5 }),
    'E_NATIVE_ARG',
    /too small for depth 5/,
    'configErrors',
  );
  await expectNativeError(() => setThreads(0), 'E_NATIVE_ARG', /setThreads/, 'configErrors');
  if (!engineInfo().cudaAvailable) {
    const saved = process.env.RECIST3D_DEVICE;
    process.env.RECIST3D_DEVICE = 'cuda';
    try {
      await expectNativeError(
        () => tinyNet(),
        'E_NATIVE_DEVICE',
        /is_available\(\) is false/,
        'configErrors',
      );
    } finally {
      if (saved === undefined) delete process.env.RECIST3D_DEVICE;
      else process.env.RECIST3D_DEVICE = saved;
    }
  }
});

test('a missing addon is E_NATIVE_MISSING saying how to fix it; importing binding.ts alone does not load it', () => {
  const script = `
    const b = await import('./src/model/binding.ts');
    try { b.engineInfo(); console.log('loaded'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, RECIST3D_ADDON: join(tmp, 'missing', 'recist3d.node') },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
  assert.equal(out.code, 'E_NATIVE_MISSING');
  assert.match(out.message, /has not been built/);
  assert.match(out.message, /npm run setup/);
  assert.match(out.message, /apt-get install libtorch-dev libgloo-dev libopencv-dev/);
});

test('an onProgress callback that throws stops the epoch and rejects with its own error', async () => {
  const net = await tinyNet();
  try {
    const n = 40;
    const data = { x: new Float32Array(n * S * S), y: new Float32Array(n * S * S), n };
    const boom = new Error('stop here');
    let calls = 0;
    await assert.rejects(
      net.trainEpoch(data, {
        batchSize: 1,
        seed: 0,
        onProgress: () => {
          calls++;
          throw boom;
        },
      }),
      (e) => e === boom,
    );
    assert.equal(calls, 1, 'the callback is not called again after it threw');
    const after = await net.trainEpoch(data, { batchSize: 20, seed: 0 });
    assert.equal(after.steps, 2, 'the net is usable afterwards');
  } finally {
    net.dispose();
  }
});
