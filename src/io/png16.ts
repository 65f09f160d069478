import { decode } from 'fast-png';
import { Recist3dError } from '../errors.js';
import { readRegularFile } from './file-access.js';
import { resolveOptions } from '../util/options.js';

/** One decoded DeepLesion-style 16-bit grey PNG slice. */
export interface Png16Slice {
  width: number;
  height: number;
  /** HU = stored value - offset, row-major (x fastest), width * height. */
  hu: Int16Array;
}

export interface ReadPng16Options {
  /** Subtracted from the stored 16-bit value to get HU (DeepLesion: 32768). */
  offset?: number;
}

const DEFAULTS = { offset: 32768 } satisfies Required<ReadPng16Options>;

/**
 * Reads a single-channel 16-bit PNG and converts it to HU (value - offset), clamped to int16.
 * A missing file gives E_FILE_NOT_FOUND; a truncated or corrupt file, or one that is not 16-bit grey,
 * E_PNG_CORRUPT naming the file.
 */
export async function readPng16(path: string, options: ReadPng16Options = {}): Promise<Png16Slice> {
  const o = resolveOptions(DEFAULTS, options);
  const bytes = await readRegularFile(path, 'PNG file');
  if (!hasIend(bytes))
    throw new Recist3dError(
      'E_PNG_CORRUPT',
      'PNG is truncated or not a PNG (no signature or no IEND chunk)',
      {
        file: path,
      },
    );
  let png;
  try {
    png = decode(bytes);
  } catch (e) {
    throw new Recist3dError(
      'E_PNG_CORRUPT',
      `Cannot decode PNG: ${(e as Error).message}`,
      { file: path },
      { cause: e },
    );
  }
  if (png.depth !== 16 || png.channels !== 1)
    throw new Recist3dError(
      'E_PNG_CORRUPT',
      `Expected a 16-bit single-channel PNG, got ${png.depth}-bit with ${png.channels} channel(s)`,
      { file: path },
    );
  const n = png.width * png.height;
  if (png.data.length < n)
    throw new Recist3dError('E_PNG_CORRUPT', `PNG has ${png.data.length} samples, expected ${n}`, {
      file: path,
    });
  const hu = new Int16Array(n);
  for (let x = 0; x < n; x++) {
    const v = png.data[x] - o.offset;
    hu[x] = v < -32768 ? -32768 : v > 32767 ? 32767 : v;
  }
  return { width: png.width, height: png.height, hu };
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** True when the bytes start with the PNG signature and end with an IEND chunk. */
function hasIend(b: Buffer): boolean {
  if (b.length < 8 + 12 || SIGNATURE.some((s, i) => b[i] !== s)) return false;
  return b.toString('latin1', b.length - 8, b.length - 4) === 'IEND';
}
