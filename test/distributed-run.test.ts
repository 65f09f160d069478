/**
 * `recist3d run` as a distributed job (docs/distributed.md): 2 ranks on 127.0.0.1 with 1 thread each against 1
 * process with 2 threads, on a phantom cohort of 8 lesions. Every lesion is in lesions.csv exactly once, and 3D
 * Dice is within 0.01 of the single process. A rank killed during training makes rank 0 fail with an error that
 * names the dead rank, within the group timeout; the relaunch resumes at the stage that was running.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { registerSynth } from '../src/cli/commands/synth.js';
import { runCli } from './helpers/cli.js';
import { freePort } from './helpers/free-port.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Group timeout of the failure test, in seconds. */
const TIMEOUT = 20;
const SMALL = [
  ...['--rounds', '1', '--epochs', '3', '--fine-tune-epochs', '2'],
  ...['--roi-size', '32', '--base-width', '4', '--no-report'],
];

interface Ended {
  status: number | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the process ended. */
  at: number;
}

/** `recist3d run` in a child process; `onErr` sees its stderr as it comes. Killed (and failed) after 6 min. */
function run(
  args: string[],
  env: Record<string, string>,
  onErr: (text: string, kill: () => void) => void = () => {},
): Promise<Ended> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(SLURM_|MASTER_|WORLD_SIZE$|RANK$|LOCAL_RANK$)/.test(k)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', ...args, ...SMALL], {
    cwd: ROOT,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onErr(stderr, () => child.kill('SIGKILL'));
  });
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`run ${env.RANK ?? ''} hung; stderr:\n${stderr}`));
    }, 360_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      ok({ status, stdout, stderr, at: performance.now() });
    });
  });
}

/** Both ranks of a 2-rank job on 127.0.0.1 (1 thread each). */
async function twoRanks(
  args: string[],
  onErr1?: (text: string, kill: () => void) => void,
): Promise<[Ended, Ended]> {
  const env = {
    RECIST3D_THREADS: '1',
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(await freePort()),
    WORLD_SIZE: '2',
    RECIST3D_DIST_TIMEOUT: String(TIMEOUT),
  };
  return Promise.all([
    run(args, { ...env, RANK: '0', LOCAL_RANK: '0' }),
    run(args, { ...env, RANK: '1', LOCAL_RANK: '1' }, onErr1),
  ]);
}

interface Metrics {
  lesions: number;
  ranks?: number;
  metrics3d: { overall: { stats: { dice: { mean: number } } } };
}

async function results(out: string): Promise<{ ids: string[]; metrics: Metrics }> {
  const csv = (await readFile(join(out, 'lesions.csv'), 'utf8')).trim().split('\n').slice(1);
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Metrics;
  return { ids: csv.map((line) => line.split(',')[0]), metrics };
}

test('run on 2 ranks against 1 process: every lesion exactly once, 3D Dice within 0.01', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-dist-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await runCli(registerSynth, ['synth', '--out', join(dir, 'ph'), '--lesions', '8', '--seed', '3']);
  const manifest = join(dir, 'ph', 'manifest.csv');
  const manifestIds = (await readFile(manifest, 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(',')[0]);

  const single = await run(['--manifest', manifest, '--out', join(dir, 'single')], { RECIST3D_THREADS: '2' });
  assert.equal(single.status, 0, single.stderr);
  const [r0, r1] = await twoRanks(['--manifest', manifest, '--out', join(dir, 'dist')]);
  assert.equal(r0.status, 0, r0.stderr);
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout, /rank 1: segmented \d+ lesion\(s\) of its shard/);

  const s = await results(join(dir, 'single'));
  const d = await results(join(dir, 'dist'));
  assert.deepEqual([...d.ids].sort(), [...manifestIds].sort(), 'every lesion exactly once');
  assert.deepEqual(d.ids, s.ids, 'the same order as a single process');
  assert.equal(d.metrics.ranks, 2);
  const [ds, dd] = [s.metrics.metrics3d.overall.stats.dice.mean, d.metrics.metrics3d.overall.stats.dice.mean];
  console.log(`3D Dice: 1 process ${ds.toFixed(4)}, 2 ranks ${dd.toFixed(4)}`);
  assert.ok(Math.abs(ds - dd) <= 0.01, `3D Dice ${dd} vs ${ds}`);
});

test('a rank killed during run: rank 0 names it within the timeout, and the relaunch resumes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-dist-kill-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await runCli(registerSynth, ['synth', '--out', join(dir, 'ph'), '--lesions', '8', '--seed', '3']);
  const args = ['--manifest', join(dir, 'ph', 'manifest.csv'), '--out', join(dir, 'out')];
  let killedAt = 0;
  // rank 1 dies in the first epoch of the self-paced round (labels-r0, train-r0 and labels-r1 are finished)
  const [r0, r1] = await twoRanks(args, (text, kill) => {
    if (!killedAt && /\[train-r1\]/.test(text)) {
      killedAt = performance.now();
      kill();
    }
  });
  assert.ok(killedAt > 0, `rank 1 never reached train-r1: ${r1.stderr}`);
  assert.notEqual(r0.status, 0, 'rank 0 failed');
  const seconds = (r0.at - killedAt) / 1000;
  const line = r0.stderr.split('\n').find((l) => /E_DIST/.test(l)) ?? r0.stderr;
  console.log(`rank 1 killed; rank 0 after ${seconds.toFixed(1)} s: ${line}`);
  assert.match(line, /E_DIST(_TIMEOUT)?/);
  assert.match(line, /rank 0 of 2/);
  assert.match(line, /rank\(s\) 1 of ranks 0-1 has stopped responding/);
  assert.ok(seconds < TIMEOUT + 10, `rank 0 gave up after ${seconds} s (timeout ${TIMEOUT} s)`);

  const [a0, a1] = await twoRanks(args);
  assert.equal(a0.status, 0, a0.stderr);
  assert.equal(a1.status, 0, a1.stderr);
  for (const stage of ['labels-r0', 'train-r0', 'labels-r1'])
    assert.match(a0.stderr, new RegExp(`\\[${stage}\\] finished earlier .*; reused`), stage);
  assert.doesNotMatch(a0.stderr, /\[train-r1\] finished earlier/);
  const { ids } = await results(join(dir, 'out'));
  assert.equal(new Set(ids).size, 8);
  assert.equal(ids.length, 8);
});
