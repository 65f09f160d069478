/**
 * Reading input files safely: only regular files are read (a folder, FIFO, socket or device such as
 * /dev/zero is refused before it is opened, so a read can neither block forever nor grow without bound), and
 * every file-system error becomes a Recist3dError that names the file.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Recist3dError, isRecist3dError, type ErrorCode, type ErrorContext } from '../errors.js';

/** What a non-regular file is, for messages ("a folder", "a named pipe (FIFO)", ...). */
export function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a named pipe (FIFO)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Any error from reading `path` as a Recist3dError naming it: E_FILE_NOT_FOUND for a missing file or
 * folder on its path, E_FILE_UNREADABLE for the rest (a folder, no permission, a path too long, ...).
 * `what` starts the message, e.g. "NIfTI file" gives "NIfTI file not found". Recist3dErrors pass through.
 */
export function fileError(e: unknown, path: string, what: string, context: ErrorContext = {}): Recist3dError {
  if (isRecist3dError(e)) return e;
  const { code, message } = describeFsError(e, what);
  return new Recist3dError(code, message, { ...context, file: path }, { cause: e });
}

function describeFsError(e: unknown, what: string): { code: ErrorCode; message: string } {
  const err = e as NodeJS.ErrnoException;
  const unreadable = (message: string) => ({ code: 'E_FILE_UNREADABLE' as const, message });
  switch (err.code) {
    case 'ENOENT':
      return { code: 'E_FILE_NOT_FOUND', message: `${what} not found` };
    case 'ENOTDIR':
      return {
        code: 'E_FILE_NOT_FOUND',
        message: `${what} not found (a part of its path is a file, not a folder)`,
      };
    case 'EISDIR':
      return unreadable(`${what} is a folder, not a file`);
    case 'EACCES':
    case 'EPERM':
      return unreadable(`${what} cannot be read: permission denied`);
    case 'ENAMETOOLONG':
      return unreadable(`${what} path is too long for the file system`);
    case 'ELOOP':
      return unreadable(`${what} path has a loop of symbolic links`);
    default:
      return unreadable(`${what} cannot be read: ${err.message ?? String(e)}`);
  }
}

function notRegular(path: string, what: string, s: Stats): Recist3dError {
  return new Recist3dError(
    'E_FILE_UNREADABLE',
    `${what} is ${fileKind(s)}, not a regular file; only regular files are read`,
    { file: path },
  );
}

/** An open regular file and its size in bytes. Close `fh` when done. */
export interface RegularFile {
  fh: FileHandle;
  size: number;
}

/**
 * Opens `path` for reading after checking that it is a regular file. The open is non-blocking and the type is
 * checked again on the open handle, so a FIFO swapped in between cannot block the process.
 */
export async function openRegularFile(path: string, what: string): Promise<RegularFile> {
  let fh: FileHandle | undefined;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw notRegular(path, what, s);
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const s2 = await fh.stat();
    if (!s2.isFile()) throw notRegular(path, what, s2);
    return { fh, size: s2.size };
  } catch (e) {
    await fh?.close().catch(() => {});
    throw fileError(e, path, what);
  }
}

/** Up to `length` bytes of `fh` from `position` (fewer only at the end of the file). */
export async function readAt(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/**
 * The whole content of a regular file. Anything else (folder, FIFO, device) is E_FILE_UNREADABLE and a missing
 * file E_FILE_NOT_FOUND, both naming the file.
 */
export async function readRegularFile(path: string, what: string): Promise<Buffer> {
  const { fh, size } = await openRegularFile(path, what);
  try {
    return await readAt(fh, size, 0);
  } catch (e) {
    throw fileError(e, path, what);
  } finally {
    await fh.close();
  }
}

/**
 * Checks that an input folder named by a CLI option exists and is a folder: E_FILE_NOT_FOUND or
 * E_FILE_UNREADABLE naming the option (`field`) and the path otherwise. Returns the path.
 */
export async function requireFolder(path: string, option: string): Promise<string> {
  let s: Stats;
  try {
    s = await stat(path);
  } catch (e) {
    throw fileError(e, path, `${option} folder`, { field: option });
  }
  if (!s.isDirectory())
    throw new Recist3dError('E_FILE_UNREADABLE', `${option} is ${fileKind(s)}, not a folder`, {
      field: option,
      file: path,
    });
  return path;
}
