/**
 * Every command checks its output path before any work (issue 13 items 2, 12, 13, 17, 18): an existing file,
 * a path under /proc and a locked folder are clear errors naming the option and path; a missing --pred
 * folder is an error, not exit 0; --threads 0 is refused before any stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { isRecist3dError, type ErrorCode } from '../src/errors.js';
import { registerDemo } from '../src/cli/commands/demo.js';
import { registerEval } from '../src/cli/commands/eval.js';
import { registerImportDeeplesion } from '../src/cli/commands/import-deeplesion.js';
import { registerMasks } from '../src/cli/commands/masks.js';
import { registerRecistFromMasks } from '../src/cli/commands/recist-from-masks.js';
import { registerRun } from '../src/cli/commands/run.js';
import { registerSegment } from '../src/cli/commands/segment.js';
import { registerSynth } from '../src/cli/commands/synth.js';
import { registerTrack } from '../src/cli/commands/track.js';
import { registerTrain } from '../src/cli/commands/train.js';
import { claimOutDir } from '../src/util/out-dir.js';
import { writeManifest } from '../src/io/manifest.js';
import { runCli, type Register } from './helpers/cli.js';
import { makeTinyCohort } from './helpers/tiny-cohort.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-cli-out-'));
test.after(() => rm(dir, { recursive: true, force: true }));
const repo = resolve(import.meta.dirname, '..');
const aFile = join(dir, 'a-file');
await writeFile(aFile, 'not a folder');
const pred = join(dir, 'pred');
await mkdir(pred);
// no work may start: a manifest that does not exist shows whether the command got that far
const manifest = join(dir, 'no-such-manifest.csv');

/** Every command with its --out (and the other required options). */
function commands(out: string): [string, Register, string[]][] {
  return [
    ['run', registerRun, ['run', '--manifest', manifest, '--out', out]],
    ['demo', registerDemo, ['demo', '--out', out]],
    ['masks', registerMasks, ['masks', '--manifest', manifest, '--out', out]],
    ['train', registerTrain, ['train', '--manifest', manifest, '--out', out]],
    ['segment', registerSegment, ['segment', '--model', dir, '--manifest', manifest, '--out', out]],
    ['eval', registerEval, ['eval', '--manifest', manifest, '--pred', pred, '--out', out]],
    ['track', registerTrack, ['track', '--manifest', manifest, '--pred', pred, '--out', out]],
    ['synth', registerSynth, ['synth', '--out', out, '--lesions', '2']],
    [
      'import-deeplesion',
      registerImportDeeplesion,
      ['import-deeplesion', '--dl-info', manifest, '--images', dir, '--out', out],
    ],
  ];
}

async function refused(register: Register, args: string[], code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(runCli(register, args), (e) => {
    assert.ok(isRecist3dError(e, code), `${args[0]}: ${String(e)}`);
    assert.match(e.message, pattern, args[0]);
    assert.equal(e.context.field, '--out');
    return true;
  });
}

test('every command refuses an --out that is an existing file before any work', async () => {
  for (const [, register, args] of commands(aFile))
    await refused(
      register,
      args,
      'E_OUTPUT_INVALID',
      new RegExp(`--out ${aFile} exists and is not a folder`),
    );
  await refused(
    registerRecistFromMasks,
    ['recist-from-masks', '--images', dir, '--masks', dir, '--out', pred],
    'E_OUTPUT_INVALID',
    /is a folder, not a file to write/,
  );
});

test(
  'every command refuses an --out under /proc at once instead of hanging in mkdir',
  { timeout: 30000 },
  async () => {
    for (const [, register, args] of commands('/proc/recist3d/out'))
      await refused(register, args, 'E_OUTPUT_INVALID', /under \/proc, a virtual file system/);
    await refused(
      registerRecistFromMasks,
      ['recist-from-masks', '--images', dir, '--masks', dir, '--out', '/proc/recist3d/m.csv'],
      'E_OUTPUT_INVALID',
      /under \/proc/,
    );
  },
);

test('a second command on a locked --out is refused naming the holder, and nothing is written', async () => {
  const out = join(dir, 'busy');
  const held = await claimOutDir(out, { command: 'run' });
  try {
    for (const [, register, args] of commands(out))
      await refused(
        register,
        args,
        'E_OUTPUT_LOCKED',
        new RegExp(`in use by recist3d run \\(pid ${process.pid} `),
      );
    assert.deepEqual(await readdir(out), ['.recist3d.lock']);
  } finally {
    await held.release();
  }
  assert.deepEqual(await readdir(out), []);
});

test('eval and track with a --pred folder that does not exist fail naming it (not exit 0 with "6 missing")', async () => {
  const missing = join(dir, 'no-such-pred');
  for (const register of [registerEval, registerTrack]) {
    const name = register === registerEval ? 'eval' : 'track';
    await assert.rejects(runCli(register, [name, '--manifest', manifest, '--pred', missing]), (e) => {
      assert.ok(isRecist3dError(e, 'E_FILE_NOT_FOUND'), String(e));
      assert.match(e.message, /--pred folder not found/);
      assert.equal(e.context.file, missing);
      return true;
    });
    await assert.rejects(
      runCli(register, [name, '--manifest', manifest, '--pred', aFile]),
      (e) =>
        isRecist3dError(e, 'E_FILE_UNREADABLE') &&
        /--pred is not a regular file|--pred is .* not a folder/.test(e.message),
    );
  }
  assert.equal(existsSync(missing), false, 'the missing folder was not created');
});

test(
  '--threads 0 (or RECIST3D_THREADS=0) is refused at option parsing, before any stage',
  { timeout: 60000 },
  async () => {
    const out = join(dir, 'threads');
    const cli = (args: string[], env: Record<string, string> = {}) =>
      promisify(execFile)('node', ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: repo,
        env: { ...process.env, ...env },
      }).then(
        () => assert.fail('exit 0'),
        (e: { code: number; stderr: string }) => e,
      );
    const r = await cli(['--threads', '0', 'run', '--manifest', manifest, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /E_USAGE: Expected an integer in \[1, 4096\] for --threads but received "0"/);
    const env = await cli(['run', '--manifest', manifest, '--out', out], { RECIST3D_THREADS: '0' });
    assert.match(env.stderr, /E_USAGE: .*--threads \(from RECIST3D_THREADS\) but received "0"/);
    assert.equal(existsSync(out), false, 'no stage ran: the output folder was not even created');
  },
);

test(
  'two runs into one --out: the second is refused naming the first; after kill -9 the lock is taken over',
  { timeout: 120000 },
  async () => {
    // the two good lesions of the tiny cohort (run refuses a manifest whose image files are missing)
    const cohort = await makeTinyCohort(join(dir, 'tiny'));
    const good = join(dir, 'tiny', 'good.csv');
    await writeManifest(
      good,
      cohort.lesions.filter((l) => l.lesionId.startsWith('good')),
    );
    const out = join(dir, 'two-runs');
    const args = [
      'run',
      '--manifest',
      good,
      '--out',
      out,
      '--rounds',
      '0',
      '--epochs',
      '50',
      '--roi-size',
      '32',
    ];
    const first = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      cwd: repo,
      stdio: 'ignore',
    });
    try {
      const lock = join(out, '.recist3d.lock');
      const t0 = Date.now();
      while (!existsSync(lock) && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(lock), 'the first run took the lock');
      await refused(
        registerRun,
        args,
        'E_OUTPUT_LOCKED',
        new RegExp(`in use by recist3d run \\(pid ${first.pid} `),
      );
    } finally {
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
    }
    // the killed run's lock is stale: a new command takes it over (and releases it at the end)
    const held = await claimOutDir(out, { command: 'run' });
    await held.release();
    assert.equal(existsSync(join(out, '.recist3d.lock')), false);
  },
);
