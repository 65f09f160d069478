/**
 * Data-parallel training on c10d (TCPStore + ProcessGroupGloo): 2 ranks on 127.0.0.1 as child processes
 * (test/helpers/dist-worker.ts) against one process. After one step on half the batch each, both ranks hold
 * the parameters of a single-process step on the whole batch (to float tolerance); a sharded epoch keeps the
 * ranks identical; a wrong MASTER_PORT or a WORLD_SIZE that never fills ends with E_DIST_TIMEOUT naming the
 * rank within the stated timeout (no hang).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Recist3dError } from '../src/errors.js';
import { SegNet, joinFromEnv, processGroup, type NetConfig } from '../src/model/binding.js';
import { registerSynth } from '../src/cli/commands/synth.js';
import { DIST_NET, distBatch } from './helpers/dist-batch.js';
import { runCli } from './helpers/cli.js';
import { freePort } from './helpers/free-port.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WORKER = resolve(ROOT, 'test', 'helpers', 'dist-worker.ts');
/** The group timeout of the failure tests, in seconds. */
const TIMEOUT = 3;

interface RankResult {
  code?: string;
  message?: string;
  seconds?: number;
  group?: { backend: string; rank: number; worldSize: number; timeoutMs: number };
  stepLoss?: number;
  epoch?: { loss: number; steps: number };
  mean?: number[];
  afterStep?: string;
  afterEpoch?: string;
}

/** Runs one rank; kills it (and fails) after `killAfter` seconds so that a hang cannot stall the suite. */
function rank(env: Record<string, string>, killAfter: number): Promise<RankResult & { elapsed: number }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SLURM_|MASTER_|WORLD_SIZE$|RANK$|LOCAL_RANK$)/.test(k)),
  );
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: ROOT,
    env: { ...clean, RECIST3D_THREADS: '1', MASTER_ADDR: '127.0.0.1', LOCAL_RANK: env.RANK ?? '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`rank ${env.RANK} hung for ${killAfter} s; stderr:\n${err}`));
    }, killAfter * 1000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 9) return ok({ code: 'EXITED', elapsed: (performance.now() - t0) / 1000 });
      const line = out.trim().split('\n').pop() ?? '';
      try {
        ok({ ...(JSON.parse(line) as RankResult), elapsed: (performance.now() - t0) / 1000 });
      } catch {
        fail(new Error(`rank ${env.RANK} printed no result: ${out}\nstderr:\n${err}`));
      }
    });
  });
}

function floats(b64: string | undefined): Float32Array {
  assert.ok(b64, 'no parameters');
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('2 ranks on 127.0.0.1: one step on half the batch each = one step on the whole batch', async () => {
  const port = String(await freePort());
  const common = { MASTER_PORT: port, WORLD_SIZE: '2', RECIST3D_DIST_TIMEOUT: '60' };
  const [r0, r1] = await Promise.all([
    rank({ ...common, RANK: '0' }, 120),
    rank({ ...common, RANK: '1' }, 120),
  ]);
  for (const r of [r0, r1]) assert.equal(r.code, undefined, `a rank failed: ${r.code} ${r.message}`);
  assert.deepEqual(r0.group, { backend: 'gloo', rank: 0, worldSize: 2, timeoutMs: 60000 });
  assert.equal(r1.group?.rank, 1);
  // allReduceMean: means of (0, 10) and (1, 20)
  assert.deepEqual(r0.mean, [0.5, 15]);
  assert.deepEqual(r1.mean, [0.5, 15]);

  // the single-process reference, in this process (no group joined here)
  assert.equal(processGroup(), undefined);
  const net = await SegNet.create(DIST_NET);
  const before = await net.parameters();
  const full = await net.trainStep(distBatch());
  const reference = await net.parameters();
  net.dispose();

  const p0 = floats(r0.afterStep);
  const p1 = floats(r1.afterStep);
  const moved = maxAbsDiff(before, reference);
  assert.ok(moved > 1e-4, `the step changed the parameters (max ${moved})`);
  const d0 = maxAbsDiff(p0, reference);
  const d1 = maxAbsDiff(p1, reference);
  console.log(`after one step, max |rank - single process|: ${d0}, ${d1} (the step moved up to ${moved})`);
  assert.ok(d0 < 1e-6 && d1 < 1e-6, `ranks vs single process after one step: max |diff| ${d0}, ${d1}`);
  // the loss of a rank's step is the job's mean loss = the whole batch's loss
  assert.ok(Math.abs((r0.stepLoss ?? 0) - full.loss) < 1e-5, `loss ${r0.stepLoss} vs ${full.loss}`);
  assert.equal(r0.stepLoss, r1.stepLoss);

  // a sharded epoch (batchSize 4 = 2 per rank, one step) keeps the ranks in step
  assert.deepEqual(r0.epoch, r1.epoch);
  assert.equal(r0.epoch?.steps, 1);
  const e = maxAbsDiff(floats(r0.afterEpoch), floats(r1.afterEpoch));
  assert.equal(e, 0, `ranks after a sharded epoch differ by ${e}`);
});

test('a WORLD_SIZE that never fills: rank 0 fails with E_DIST_TIMEOUT naming it, within the timeout', async () => {
  const port = String(await freePort());
  const r = await rank(
    { MASTER_PORT: port, WORLD_SIZE: '2', RANK: '0', RECIST3D_DIST_TIMEOUT: String(TIMEOUT) },
    60,
  );
  assert.equal(r.code, 'E_DIST_TIMEOUT', String(r.message));
  console.log(`rank 0 alone: ${r.message} (after ${r.seconds?.toFixed(2)} s)`);
  assert.match(r.message ?? '', /rank 0 of 2/);
  assert.match(r.message ?? '', /3 s/);
  assert.ok((r.seconds ?? 99) < TIMEOUT + 1.5, `gave up after ${r.seconds} s (timeout ${TIMEOUT} s)`);
});

test('a wrong MASTER_PORT: both ranks fail with E_DIST_TIMEOUT naming their rank, within the timeout', async () => {
  const [good, wrong] = [String(await freePort()), String(await freePort())];
  const env = { WORLD_SIZE: '2', RECIST3D_DIST_TIMEOUT: String(TIMEOUT) };
  const [r0, r1] = await Promise.all([
    rank({ ...env, MASTER_PORT: good, RANK: '0' }, 60),
    rank({ ...env, MASTER_PORT: wrong, RANK: '1' }, 60),
  ]);
  for (const [r, name] of [
    [r0, 'rank 0 of 2'],
    [r1, 'rank 1 of 2'],
  ] as const) {
    assert.equal(r.code, 'E_DIST_TIMEOUT', String(r.message));
    console.log(`wrong port, ${name}: ${r.message} (after ${r.seconds?.toFixed(2)} s)`);
    assert.ok(r.message?.includes(name), r.message);
    assert.ok((r.seconds ?? 99) < TIMEOUT + 1.5, `gave up after ${r.seconds} s (timeout ${TIMEOUT} s)`);
  }
  assert.ok(r1.message?.includes(`MASTER_PORT=${wrong}`), r1.message);
});

test('a job of one rank joins nothing; a bad RECIST3D_DIST_TIMEOUT is named', async () => {
  const one = { MASTER_ADDR: '127.0.0.1', MASTER_PORT: '1', WORLD_SIZE: '1', RANK: '0' };
  assert.equal(await joinFromEnv(one), undefined);
  assert.equal(await joinFromEnv({}), undefined);
  assert.equal(processGroup(), undefined);
  await assert.rejects(
    joinFromEnv({ ...one, WORLD_SIZE: '2', RECIST3D_DIST_TIMEOUT: 'soon' }),
    (e: Recist3dError) => e.code === 'E_DIST_ENV' && e.context.field === 'RECIST3D_DIST_TIMEOUT',
  );
});

test('a rank that dies after joining: the other fails its next all-reduce naming itself and the dead rank, no hang', async () => {
  const port = String(await freePort());
  const env = { MASTER_PORT: port, WORLD_SIZE: '2', RECIST3D_DIST_TIMEOUT: String(TIMEOUT) };
  const [r0, r1] = await Promise.all([
    rank({ ...env, RANK: '0' }, 60),
    rank({ ...env, RANK: '1', DIST_WORKER_EXIT: '1' }, 60),
  ]);
  assert.equal(r1.code, 'EXITED');
  console.log(`rank 1 died: ${r0.code} ${r0.message} (after ${r0.seconds?.toFixed(2)} s)`);
  assert.ok(r0.code === 'E_DIST' || r0.code === 'E_DIST_TIMEOUT', `${r0.code}: ${r0.message}`);
  assert.match(r0.message ?? '', /gradient all-reduce failed on rank 0 of 2/);
  // the heartbeats in the TCPStore name the rank that died (Gloo names only its address)
  assert.match(r0.message ?? '', /rank\(s\) 1 of ranks 0-1 has stopped responding/);
  assert.ok((r0.seconds ?? 99) < TIMEOUT + 10, `gave up after ${r0.seconds} s`);
});

test('recist3d info shows the backend, rank and world size of the environment', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'info', '--json'], {
    cwd: ROOT,
    env: { ...process.env, MASTER_ADDR: 'node1', MASTER_PORT: '29500', WORLD_SIZE: '4', RANK: '2' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { distributed: { backend: string; rank: number; worldSize: number } };
  assert.match(info.distributed.backend, /^gloo/);
  assert.equal(info.distributed.rank, 2);
  assert.equal(info.distributed.worldSize, 4);
});

test('recist3d train on 2 ranks into one shared --out: rank 0 writes the model, both stop at the same epoch', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-dist-train-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await runCli(registerSynth, ['synth', '--out', join(dir, 'ph'), '--lesions', '6', '--seed', '3']);
  const port = String(await freePort());
  const out = join(dir, 'shared');
  const train = (r: number) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((ok) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/cli/main.ts',
          'train',
          '--manifest',
          join(dir, 'ph', 'manifest.csv'),
          '--out',
          out,
          '--labels',
          'recist',
          '--roi-size',
          '32',
          '--base-width',
          '4',
          '--samples-per-epoch',
          '8',
          '--epochs',
          '2',
        ],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            RECIST3D_THREADS: '1',
            MASTER_ADDR: '127.0.0.1',
            MASTER_PORT: port,
            WORLD_SIZE: '2',
            RANK: String(r),
            RECIST3D_DIST_TIMEOUT: '120',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('close', (status) => {
        clearTimeout(timer);
        ok({ status, stdout, stderr });
      });
    });
  const [a, b] = await Promise.all([train(0), train(1)]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /rank 1 of 2 joined \(gloo\)/);
  // both ranks report the same number of epochs (they stop together); rank 0's model is the job's
  const epochs = (s: string) => /(\d+) epochs/.exec(s)?.[1];
  assert.ok(epochs(a.stdout), a.stdout);
  assert.equal(epochs(a.stdout), epochs(b.stdout));
  type Side = { net: NetConfig; metrics: { epochs: number; history: unknown[] } };
  const side = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as Side;
  assert.equal(side.metrics.epochs, Number(epochs(a.stdout)));
  const net = await SegNet.create(side.net);
  await net.load(join(out, 'model.pt'));
  net.dispose();
});
