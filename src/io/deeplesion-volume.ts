import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import type { Vec3, Volume } from '../types/volume.js';
import type { DlInfoRow } from './deeplesion.js';
import { readPng16 } from './png16.js';
import { resolveOptions } from '../util/options.js';

export interface LoadDeepLesionOptions {
  /** At most this many slices on each side of the key slice (within Slice_range). */
  maxSlicesEachSide?: number;
}

const DEFAULTS = { maxSlicesEachSide: 1000 } satisfies Required<LoadDeepLesionOptions>;

/** What loadDeepLesionVolume records in `volume.meta.deepLesion`. */
export interface DeepLesionMeta {
  fileName: string;
  /** 0-based k of the key slice inside the volume. */
  keySlice: number;
  /** DeepLesion slice numbers (file names) of k = 0 .. nk-1. */
  sliceNumbers: number[];
}

/** The 0-based key slice k of a volume from loadDeepLesionVolume. */
export function deepLesionKeySlice(vol: Volume): number {
  const m = vol.meta.deepLesion as DeepLesionMeta | undefined;
  if (!m) throw new Recist3dError('E_USAGE', 'Volume was not loaded by loadDeepLesionVolume');
  return m.keySlice;
}

/** Images_png/PPPPPP_SS_RR/KKK.png for one DeepLesion slice number. */
export function deepLesionSlicePath(imagesDir: string, seriesDir: string, slice: number): string {
  return join(imagesDir, seriesDir, `${String(slice).padStart(3, '0')}.png`);
}

/**
 * Assembles the contiguous run of existing slices around the key slice, within Slice_range, into an int16 HU
 * volume (i = x column, j = y row, k = slice, increasing slice number). Spacing from Spacing_mm_px_, origin 0,
 * identity direction (DeepLesion gives no patient position); the key slice's k is in meta.deepLesion.keySlice. Throws E_FILE_NOT_FOUND naming the key slice PNG
 * when it is absent, E_PNG_CORRUPT for unreadable slices, E_DEEPLESION_ROW when a slice's size differs.
 */
export async function loadDeepLesionVolume(
  row: DlInfoRow,
  imagesDir: string,
  options: LoadDeepLesionOptions = {},
): Promise<Volume<Int16Array>> {
  const o = resolveOptions(DEFAULTS, options);
  const key = row.keySliceIndex;
  const path = (s: number) => deepLesionSlicePath(imagesDir, row.seriesDir, s);
  if (!existsSync(path(key)))
    throw new Recist3dError('E_FILE_NOT_FOUND', 'Key slice PNG not found', {
      file: path(key),
      row: row.row,
      lesionId: row.lesionId,
    });
  let lo = key;
  while (lo - 1 >= row.sliceRange[0] && key - (lo - 1) <= o.maxSlicesEachSide && existsSync(path(lo - 1)))
    lo--;
  let hi = key;
  while (hi + 1 <= row.sliceRange[1] && hi + 1 - key <= o.maxSlicesEachSide && existsSync(path(hi + 1))) hi++;
  const sliceNumbers = Array.from({ length: hi - lo + 1 }, (_, q) => lo + q);
  const slices = [];
  for (const s of sliceNumbers) slices.push(await readPng16(path(s)));
  const { width, height } = slices[key - lo];
  for (const [q, sl] of slices.entries())
    if (sl.width !== width || sl.height !== height)
      throw new Recist3dError(
        'E_DEEPLESION_ROW',
        `Slice ${sliceNumbers[q]} is ${sl.width}x${sl.height}, the key slice ${width}x${height}`,
        { file: path(sliceNumbers[q]), row: row.row, lesionId: row.lesionId },
      );
  if (width !== row.imageSize[0] || height !== row.imageSize[1])
    throw new Recist3dError(
      'E_DEEPLESION_ROW',
      `Key slice is ${width}x${height} but Image_size says ${row.imageSize.join('x')}`,
      { file: path(key), row: row.row, field: 'Image_size', lesionId: row.lesionId },
    );
  const plane = width * height;
  const data = new Int16Array(plane * slices.length);
  slices.forEach((sl, q) => data.set(sl.hu, q * plane));
  const size: Vec3 = [width, height, slices.length];
  const deepLesion: DeepLesionMeta = { fileName: row.fileName, keySlice: key - lo, sliceNumbers };
  return {
    size,
    spacingMm: [...row.spacingMm] as Vec3,
    origin: [0, 0, 0],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data,
    meta: { sourceFile: path(key), deepLesion },
  };
}
