/**
 * Bounded loading of a NIfTI-1 file's bytes (.nii, or gzip-compressed, detected from the bytes). Only regular
 * files are read (file-access.ts). The header is read and checked first; then exactly the bytes it declares
 * (vox_offset + voxels) are read or inflated, never more: a gzip bomb stops at the declared size, and a file
 * shorter than declared is E_NIFTI_TRUNCATED. Bytes past the declared voxels are ignored, as in nifti1_io.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { Recist3dError, isRecist3dError } from '../errors.js';
import { fileError, openRegularFile, readAt } from './file-access.js';
import { READERS, parseNiftiHeader, type ParsedNifti } from './nifti-decode.js';

/** The NIfTI-1 header with its extension flag: what must be read before the voxels can be located. */
const HEADER_BYTES = 352;

/**
 * Largest voxel block (vox_offset + voxels) read, in bytes: Node's largest Buffer, at most 4 GiB
 * (e.g. 1024 x 1024 x 1024 int16 is 2 GiB). A header declaring more is E_NIFTI_UNSUPPORTED.
 */
export const MAX_NIFTI_BYTES = Math.min(bufferConstants.MAX_LENGTH, 2 ** 32);

/**
 * After the declared bytes, inflate at most this many more (discarded) so that the gzip trailer, and with it
 * the CRC of a normal file, is checked; a longer stream is not inflated further.
 */
const GZIP_TAIL_BYTES = 1 << 16;

/** First output buffer of an inflate; it doubles as data arrives (up to the declared size), so a small file
 * that declares a huge volume costs memory only for what it really holds. */
const GZIP_FIRST_BYTES = 16 * 2 ** 20;

/** A loaded NIfTI: its bytes (header + voxels, or the header only) and the parsed header. */
export interface LoadedNifti {
  bytes: Buffer;
  parsed: ParsedNifti;
}

/** vox_offset + the voxels' bytes, checked against MAX_NIFTI_BYTES. */
export function declaredBytes(p: ParsedNifti, path: string): number {
  const n = p.size[0] * p.size[1] * p.size[2];
  const need = p.offset + n * READERS[p.nifti.datatype].bytes;
  if (need > MAX_NIFTI_BYTES)
    throw new Recist3dError(
      'E_NIFTI_UNSUPPORTED',
      `The header declares ${p.size.join('x')} voxels of datatype ${p.nifti.datatype} from offset ${p.offset}: ` +
        `${(need / 2 ** 30).toFixed(1)} GiB, more than the ${(MAX_NIFTI_BYTES / 2 ** 30).toFixed(0)} GiB this reader handles`,
      { file: path, field: 'dim' },
    );
  return need;
}

function truncated(path: string, p: ParsedNifti, need: number, have: number): Recist3dError {
  return new Recist3dError(
    'E_NIFTI_TRUNCATED',
    `Expected ${need - p.offset} bytes of voxel data from offset ${p.offset} but the file has ${Math.max(0, have - p.offset)}`,
    { file: path },
  );
}

/**
 * Reads a NIfTI file's header and voxel bytes (or, with `headerOnly`, just the header), bounded by what the
 * header declares. Errors are Recist3dErrors naming the file (and the header field when there is one).
 */
export async function loadNifti(path: string, headerOnly = false): Promise<LoadedNifti> {
  const { fh, size } = await openRegularFile(path, 'NIfTI file');
  try {
    const magic = await readAt(fh, Math.min(size, 2), 0);
    if (magic.length === 2 && magic[0] === 0x1f && magic[1] === 0x8b)
      return await inflate(fh, path, headerOnly);
    const head = await readAt(fh, Math.min(size, HEADER_BYTES), 0);
    const parsed = parseNiftiHeader(head, path);
    if (headerOnly) return { bytes: head, parsed };
    const need = declaredBytes(parsed, path);
    if (size < need) throw truncated(path, parsed, need, size);
    return { bytes: await readAt(fh, need, 0), parsed };
  } catch (e) {
    throw fileError(e, path, 'NIfTI file');
  } finally {
    await fh.close();
  }
}

/** Inflates a gzip NIfTI chunk by chunk, keeping only the declared bytes and stopping soon after them. */
async function inflate(fh: FileHandle, path: string, headerOnly: boolean): Promise<LoadedNifti> {
  const src = fh.createReadStream({ start: 0, autoClose: false, highWaterMark: 1 << 16 });
  const gunzip = createGunzip();
  src.on('error', (e) => gunzip.destroy(e));
  src.pipe(gunzip);
  const head: Buffer[] = [];
  let headLength = 0;
  let parsed: ParsedNifti | undefined;
  let out: Buffer | undefined;
  let need = 0;
  let filled = 0;
  let tail = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      if (!parsed) {
        head.push(chunk);
        headLength += chunk.length;
        if (headLength < HEADER_BYTES) continue;
        const all = Buffer.concat(head, headLength);
        parsed = parseNiftiHeader(all, path);
        if (headerOnly) return { bytes: all.subarray(0, HEADER_BYTES), parsed };
        need = declaredBytes(parsed, path);
        out = Buffer.allocUnsafe(Math.min(need, Math.max(GZIP_FIRST_BYTES, all.length)));
        filled = all.copy(out, 0, 0, Math.min(need, all.length));
        tail = all.length - filled;
      } else if (filled < need) {
        const want = Math.min(need, filled + chunk.length);
        if (want > out!.length) {
          const grown = Buffer.allocUnsafe(Math.min(need, Math.max(want, 2 * out!.length)));
          out!.copy(grown, 0, 0, filled);
          out = grown;
        }
        const k = chunk.copy(out!, filled, 0, want - filled);
        filled += k;
        tail += chunk.length - k;
      } else tail += chunk.length;
      if (tail > GZIP_TAIL_BYTES) break;
    }
  } catch (e) {
    if (isRecist3dError(e)) throw e;
    const msg = (e as Error).message;
    const code = (e as { code?: string }).code;
    const cut = code === 'Z_BUF_ERROR' || /unexpected end/i.test(msg);
    throw new Recist3dError(
      cut ? 'E_NIFTI_TRUNCATED' : 'E_NIFTI_CORRUPT',
      `Cannot decompress gzip NIfTI: ${msg}`,
      { file: path },
      { cause: e },
    );
  } finally {
    src.unpipe(gunzip);
    src.destroy();
    gunzip.destroy();
  }
  if (!parsed) {
    const all = Buffer.concat(head, headLength);
    // too short for a header: parseNiftiHeader says so (E_NIFTI_TRUNCATED naming the size)
    parsed = parseNiftiHeader(all, path);
    if (headerOnly) return { bytes: all, parsed };
    need = declaredBytes(parsed, path);
    throw truncated(path, parsed, need, all.length);
  }
  if (filled < need) throw truncated(path, parsed, need, filled);
  return { bytes: out!, parsed };
}
