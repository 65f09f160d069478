/**
 * Output folders of the commands, checked before any work: not on a virtual file system (/proc, /sys, /dev),
 * not a file, creatable and writable; then an exclusive lock file that names its holder, so two commands never
 * write into one folder at once. Every problem is a Recist3dError naming the option and the path.
 */
import { readFileSync, statfsSync, unlinkSync } from 'node:fs';
import {
  link,
  lstat,
  mkdir,
  readFile,
  readdir,
  realpath,
  rm,
  stat,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Recist3dError } from '../errors.js';
import { resolveOptions } from './options.js';

/** Name of the lock file inside a claimed output folder. */
export const LOCK_FILE = '.recist3d.lock';

/** Linux statfs magic numbers of pseudo file systems that hold no files (linux/magic.h). */
const VIRTUAL_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0x1cd1: 'devpts',
  0xcafe4a11: 'bpf',
  0x6165676c: 'pstore',
  0x62656570: 'configfs',
  0xde5e81e4: 'efivarfs',
  0x65735543: 'fusectl',
};

/** Top folders of virtual file systems (by path, for the cases statfs cannot tell, e.g. devtmpfs = tmpfs). */
const VIRTUAL_ROOTS = ['/proc', '/sys', '/dev'];
/** Real storage under those roots. */
const REAL_UNDER_VIRTUAL = ['/dev/shm'];

export interface OutDirOptions {
  /** The option that named the path, for messages (e.g. '--out'). */
  option?: string;
  /** Command recorded in the lock as its holder (e.g. 'run'). */
  command?: string;
}

const DEFAULTS = { option: '--out', command: 'recist3d' } satisfies Required<OutDirOptions>;

/** What the lock file holds. */
export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** Start time of the process in clock ticks since boot (Linux), to tell a reused pid from the holder. */
  processStart?: string | undefined;
}

/** A claimed output folder; `await using` releases the lock when the block ends. */
export interface OutDir extends AsyncDisposable {
  /** Absolute path of the folder. */
  path: string;
  /** Removes everything in the folder except the lock (for --force). */
  clear(): Promise<void>;
  /** Removes the lock (idempotent). */
  release(): Promise<void>;
}

function invalid(option: string, path: string, why: string, cause?: unknown): Recist3dError {
  return new Recist3dError(
    'E_OUTPUT_INVALID',
    `${option} ${path} ${why}`,
    { field: option, file: path },
    { cause },
  );
}

/** The nearest existing ancestor of `path` (itself when it exists). */
async function existingAncestor(path: string): Promise<string> {
  let p = path;
  for (;;) {
    try {
      await lstat(p);
      return p;
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/** Throws E_OUTPUT_INVALID when `path` (or where it would be created) lies on a virtual file system. */
export async function refuseVirtualFs(path: string, option: string = DEFAULTS.option): Promise<void> {
  const abs = resolve(path);
  const anc = await existingAncestor(abs);
  const real = await realpath(anc).catch(() => anc);
  const target = join(real, abs.slice(anc.length));
  const under = (root: string) => target === root || target.startsWith(root + sep);
  const root = VIRTUAL_ROOTS.find(under);
  if (root && !REAL_UNDER_VIRTUAL.some(under))
    throw invalid(option, abs, `lies under ${root}, a virtual file system that cannot hold output files`);
  let type: number | undefined;
  try {
    type = statfsSync(real).type;
  } catch {
    return; // no statfs here (not Linux): the path rule above is all we can check
  }
  const name = VIRTUAL_FS[type];
  if (name) throw invalid(option, abs, `lies on a ${name} file system, which cannot hold output files`);
}

/** E_OUTPUT_INVALID with a plain reason for a failed mkdir or write in `path`. */
function writeError(e: unknown, option: string, path: string): Recist3dError {
  const code = (e as NodeJS.ErrnoException).code;
  const why: Record<string, string> = {
    EEXIST: 'cannot be created: a part of its path is a file',
    ENOTDIR: 'cannot be created: a part of its path is a file',
    EACCES: 'cannot be written: permission denied',
    EPERM: 'cannot be written: permission denied',
    EROFS: 'cannot be written: the file system is read-only',
    ENOSPC: 'cannot be written: no space left on the device',
    EDQUOT: 'cannot be written: disk quota exceeded',
    ENAMETOOLONG: 'cannot be created: the path is too long',
  };
  return invalid(option, path, why[code ?? ''] ?? `cannot be written: ${(e as Error).message}`, e);
}

/**
 * Checks and creates an output folder without locking it: refuses a virtual file system, an existing file and
 * a folder that cannot be created or written (a probe file is written and removed).
 */
export async function prepareOutDir(path: string, options: OutDirOptions = {}): Promise<string> {
  const o = resolveOptions(DEFAULTS, options);
  const abs = resolve(path);
  await refuseVirtualFs(abs, o.option);
  const s = await stat(abs).catch(() => undefined);
  if (s && !s.isDirectory()) throw invalid(o.option, abs, 'exists and is not a folder');
  if (!s)
    await mkdir(abs, { recursive: true }).catch((e: unknown) => Promise.reject(writeError(e, o.option, abs)));
  const probe = join(abs, `.recist3d-probe-${process.pid}`);
  try {
    await writeFile(probe, '');
    await unlink(probe);
  } catch (e) {
    throw writeError(e, o.option, abs);
  }
  return abs;
}

/**
 * Checks the folder an output file goes into (as prepareOutDir, creating it) and that the file itself is not a
 * folder or anything but a regular file.
 */
export async function prepareOutFile(path: string, options: OutDirOptions = {}): Promise<string> {
  const o = resolveOptions(DEFAULTS, options);
  const abs = resolve(path);
  const s = await stat(abs).catch(() => undefined);
  if (s && !s.isFile())
    throw invalid(
      o.option,
      abs,
      `is ${s.isDirectory() ? 'a folder' : 'not a regular file'}, not a file to write`,
    );
  await prepareOutDir(dirname(abs), o);
  return abs;
}

/** Start time of process `pid` (Linux /proc/<pid>/stat field 22), undefined elsewhere. */
async function processStart(pid: number): Promise<string | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** True when the holder is a live process on this host (a reused pid does not count). */
async function holderAlive(h: LockHolder): Promise<boolean> {
  if (h.host !== hostname()) return true; // cannot tell: assume it is running there
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = await processStart(h.pid);
  return !(h.processStart && start && start !== h.processStart);
}

function describe(h: LockHolder): string {
  return `recist3d ${h.command} (pid ${h.pid} on ${h.host}, since ${h.startedAt})`;
}

/**
 * prepareOutDir, then takes the folder's exclusive lock (`.recist3d.lock`, written atomically). A lock held by
 * a live process is E_OUTPUT_LOCKED naming the holder; the lock of a process that no longer runs (killed) is
 * taken over. Release with `await using dir = await claimOutDir(...)` or `dir.release()`.
 */
export async function claimOutDir(path: string, options: OutDirOptions = {}): Promise<OutDir> {
  const o = resolveOptions(DEFAULTS, options);
  const abs = await prepareOutDir(path, o);
  const lockPath = join(abs, LOCK_FILE);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: o.command,
    startedAt: new Date().toISOString(),
    processStart: await processStart(process.pid),
  };
  const tmp = `${lockPath}.${process.pid}`;
  await writeFile(tmp, JSON.stringify(me) + '\n').catch((e: unknown) =>
    Promise.reject(writeError(e, o.option, abs)),
  );
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(tmp, lockPath); // atomic: fails with EEXIST when anyone holds the lock
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError(e, o.option, abs);
      }
      const before = await stat(lockPath).catch(() => undefined);
      let holder: LockHolder | undefined;
      try {
        holder = JSON.parse(await readFile(lockPath, 'utf8')) as LockHolder;
      } catch {
        holder = undefined; // unreadable: treat as stale
      }
      if (holder && typeof holder.pid === 'number' && (await holderAlive(holder)))
        throw new Recist3dError(
          'E_OUTPUT_LOCKED',
          `${o.option} ${abs} is in use by ${describe(holder)}; wait for it to finish or choose another folder ` +
            `(if no such process runs, delete ${lockPath})`,
          { field: o.option, file: abs },
        );
      if (attempt >= 2)
        throw invalid(o.option, abs, `has a lock file that could not be taken over: ${lockPath}`);
      // stale: remove it unless someone replaced it meanwhile, then try again
      const now = await stat(lockPath).catch(() => undefined);
      if (before && now && before.ino === now.ino) await unlink(lockPath).catch(() => {});
    }
  } finally {
    await unlink(tmp).catch(() => {});
  }
  let held = true;
  const ours = (text: string) => {
    const h = JSON.parse(text) as LockHolder;
    return h.pid === me.pid && h.startedAt === me.startedAt;
  };
  // on exit without release (process.exit, an uncaught error): drop the lock if it is still ours
  const releaseOnExit = () => {
    try {
      if (ours(readFileSync(lockPath, 'utf8'))) unlinkSync(lockPath);
    } catch {
      // already gone
    }
  };
  process.once('exit', releaseOnExit);
  const release = async () => {
    if (!held) return;
    held = false;
    process.removeListener('exit', releaseOnExit);
    try {
      if (ours(await readFile(lockPath, 'utf8'))) await unlink(lockPath);
    } catch {
      // already gone
    }
  };
  return {
    path: abs,
    async clear() {
      for (const f of await readdir(abs))
        if (f !== LOCK_FILE) await rm(join(abs, f), { recursive: true, force: true });
    },
    release,
    [Symbol.asyncDispose]: release,
  };
}
