/**
 * Output folders (issue 13 items 2, 13, 17): virtual file systems, files and unwritable folders are refused
 * before any work, and the folder lock names its holder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isRecist3dError, type ErrorCode } from '../src/errors.js';
import { claimOutDir, LOCK_FILE, prepareOutDir, prepareOutFile } from '../src/util/out-dir.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-outdir-'));
test.after(() => rm(dir, { recursive: true, force: true }));

async function refused(p: Promise<unknown>, code: ErrorCode, pattern: RegExp, path: string): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isRecist3dError(e, code), String(e));
    assert.match(e.message, pattern);
    assert.equal(e.context.file, path);
    assert.equal(e.context.field, '--out');
    return true;
  });
}

test(
  'paths on /proc, /sys and /dev are refused at once (mkdir under /proc never returns)',
  { timeout: 10000 },
  async () => {
    await refused(
      prepareOutDir('/proc/recist3d-out'),
      'E_OUTPUT_INVALID',
      /under \/proc, a virtual file system/,
      '/proc/recist3d-out',
    );
    await refused(claimOutDir('/proc/1/out/x'), 'E_OUTPUT_INVALID', /under \/proc/, '/proc/1/out/x');
    await refused(prepareOutDir('/sys/kernel/out'), 'E_OUTPUT_INVALID', /under \/sys/, '/sys/kernel/out');
    await refused(prepareOutFile('/dev/null'), 'E_OUTPUT_INVALID', /not a regular file/, '/dev/null');
    await refused(prepareOutDir('/dev/recist3d'), 'E_OUTPUT_INVALID', /under \/dev/, '/dev/recist3d');
    // a symbolic link into /proc is followed
    await import('node:fs/promises').then((fs) => fs.symlink('/proc/self', join(dir, 'to-proc')));
    await refused(
      prepareOutDir(join(dir, 'to-proc', 'out')),
      'E_OUTPUT_INVALID',
      /under \/proc/,
      join(dir, 'to-proc', 'out'),
    );
  },
);

test('an existing file, a path through a file and a folder as an output file are refused naming the path', async () => {
  const f = join(dir, 'a-file');
  await writeFile(f, 'x');
  await refused(prepareOutDir(f), 'E_OUTPUT_INVALID', /exists and is not a folder/, f);
  await refused(
    claimOutDir(join(f, 'sub')),
    'E_OUTPUT_INVALID',
    /a part of its path is a file/,
    join(f, 'sub'),
  );
  await refused(prepareOutFile(dir), 'E_OUTPUT_INVALID', /is a folder, not a file to write/, dir);
  assert.equal(await prepareOutFile(join(dir, 'new', 'm.csv')), join(dir, 'new', 'm.csv'));
});

test('a folder that cannot be written is refused before any work', { timeout: 60000 }, async (t) => {
  const ro = join(dir, 'read-only');
  await mkdir(ro);
  await chmod(ro, 0o555);
  if (process.getuid?.() !== 0) {
    await refused(prepareOutDir(ro), 'E_OUTPUT_INVALID', /permission denied/, ro);
    return;
  }
  // root may write anywhere: check as user nobody in a child process
  if (spawnSync('node', ['-e', ''], { uid: 65534, gid: 65534 }).status !== 0)
    return t.skip('cannot run as nobody');
  const script = `import('${resolve('src/util/out-dir.ts')}').then(m => m.prepareOutDir('${ro}')).then(() => console.log('ok'), e => console.log(e.code + ' ' + e.message))`;
  const r = spawnSync('node', ['--import', 'tsx', '-e', script], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    env: { ...process.env, HOME: tmpdir() },
  });
  if (/EACCES|Cannot find|ERR_/.test(r.stderr) && !r.stdout)
    return t.skip(`tsx cannot run as nobody: ${r.stderr.slice(0, 200)}`);
  assert.match(r.stdout, new RegExp(`E_OUTPUT_INVALID --out ${ro} cannot be written: permission denied`));
});

test('the lock: a second claim names the holder; release frees it; a dead holder is taken over', async () => {
  const out = join(dir, 'locked');
  const first = await claimOutDir(out, { command: 'run' });
  const lock = JSON.parse(await readFile(join(out, LOCK_FILE), 'utf8'));
  assert.equal(lock.pid, process.pid);
  await refused(
    claimOutDir(out, { command: 'run' }),
    'E_OUTPUT_LOCKED',
    new RegExp(`in use by recist3d run \\(pid ${process.pid} on ${hostname()}, since `),
    out,
  );
  await writeFile(join(out, 'result.txt'), 'x');
  await first.clear();
  assert.deepEqual(await readdir(out), [LOCK_FILE], 'clear keeps only the lock');
  await first.release();
  assert.deepEqual(await readdir(out), []);
  {
    await using again = await claimOutDir(out);
    assert.equal(again.path, out);
    assert.deepEqual(await readdir(out), [LOCK_FILE]);
  }
  assert.deepEqual(await readdir(out), [], 'await using released it');

  // a lock left by a killed process (its pid no longer runs) is taken over
  const child = spawn('node', ['-e', '']);
  const deadPid = child.pid!;
  await new Promise((r) => child.on('exit', r));
  const stale = { pid: deadPid, host: hostname(), command: 'run', startedAt: '2020-01-01T00:00:00Z' };
  await writeFile(join(out, LOCK_FILE), JSON.stringify(stale));
  const taken = await claimOutDir(out);
  assert.equal(JSON.parse(await readFile(join(out, LOCK_FILE), 'utf8')).pid, process.pid);
  await taken.release();
  // a lock from another host cannot be checked: it is respected and named
  await writeFile(join(out, LOCK_FILE), JSON.stringify({ ...stale, host: 'elsewhere' }));
  await refused(claimOutDir(out), 'E_OUTPUT_LOCKED', /pid \d+ on elsewhere/, out);
});
