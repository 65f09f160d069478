/**
 * The images the stacked GAN learns from, as grayscale float images in [0, 1]:
 * - natural photographs from Debian's plasma-workspace-wallpapers (the paper used DIV2K, which cannot be
 *   downloaded here): only the files listed in PHOTO_FILES, which are photographs (the package's other
 *   wallpapers are rendered or drawn art, whose flat areas and synthetic edges teach the wrong prior);
 * - axial CT slices of NIfTI volumes and DeepLesion's 16-bit PNG key slices, windowed, for the fine-tuning on
 *   CT.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { Recist3dError } from '../errors.js';
import { readNifti } from '../io/nifti.js';
import { readPng16 } from '../io/png16.js';
import { exists } from '../util/fs.js';
import type { GrayImage } from './degrade.js';

/** Where Debian installs plasma-workspace-wallpapers. */
export const WALLPAPER_DIR = '/usr/share/wallpapers';

/**
 * The photographs of plasma-workspace-wallpapers (Debian 12) used for training, relative to WALLPAPER_DIR:
 * `1280x1024.jpg` of each wallpaper that is a photograph (a link to its 2560x1600 picture). Left out as drawn
 * or rendered: Autumn (a painting), PastelHills, and the wallpapers without such a JPEG (rendered art,
 * except ColorfulCups, a photograph left out only because it has no 1280x1024.jpg).
 */
export const PHOTO_FILES = [
  'BytheWater/contents/images/1280x1024.jpg',
  'ColdRipple/contents/images/1280x1024.jpg',
  'DarkestHour/contents/images/1280x1024.jpg',
  'EveningGlow/contents/images/1280x1024.jpg',
  'FallenLeaf/contents/images/1280x1024.jpg',
  'Grey/contents/images/1280x1024.jpg',
  'Kite/contents/images/1280x1024.jpg',
  'OneStandsOut/contents/images/1280x1024.jpg',
  'Path/contents/images/1280x1024.jpg',
  'summer_1am/contents/images/1280x1024.jpg',
] as const;

/** A training image and where it came from. */
export interface SourceImage extends GrayImage {
  /** File (and slice) it was read from. */
  name: string;
  kind: 'photo' | 'ct';
}

/** Decodes a JPEG to luma (ITU-R BT.601 weights) in [0, 1]. */
export async function readGrayJpeg(path: string): Promise<GrayImage> {
  let raw;
  try {
    raw = jpeg.decode(await readFile(path), {
      useTArray: true,
      formatAsRGBA: true,
      maxMemoryUsageInMB: 1024,
    });
  } catch (e) {
    throw new Recist3dError('E_SR_DATA', `Cannot decode the JPEG ${path}: ${(e as Error).message}`, {
      file: path,
    });
  }
  const { width: w, height: h, data } = raw;
  const out = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++)
    out[i] = (0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2]) / 255;
  return { h, w, data: out };
}

/** The PHOTO_FILES under `dir`; E_SR_DATA naming the package when any is missing. */
export async function loadPhotos(dir: string = WALLPAPER_DIR): Promise<SourceImage[]> {
  const out: SourceImage[] = [];
  for (const f of PHOTO_FILES) {
    const path = join(dir, f);
    if (!(await exists(path)))
      throw new Recist3dError(
        'E_SR_DATA',
        `The training photograph ${path} is missing: install Debian's plasma-workspace-wallpapers ('bash scripts/setup.sh --sr' does) or pass --photos DIR`,
        { file: path },
      );
    out.push({ ...(await readGrayJpeg(path)), name: f, kind: 'photo' });
  }
  return out;
}

export interface CtSliceOptions {
  /** Slices taken per volume, evenly spaced over its axial extent (the first and last 10% skipped). */
  slicesPerVolume: number;
  /** HU window mapped to [0, 1]. */
  windowHu: readonly [number, number];
  /** Slices smaller than this (either side) are skipped. */
  minSide: number;
}

function windowed(
  hu: ArrayLike<number>,
  offset: number,
  count: number,
  [lo, hi]: readonly [number, number],
): Float32Array {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = Math.min(1, Math.max(0, (hu[offset + i] - lo) / (hi - lo)));
  return data;
}

/**
 * Axial slices of CT volumes (.nii, .nii.gz) and DeepLesion 16-bit PNG slices (.png, HU = value - 32768),
 * windowed to [0, 1].
 */
export async function loadCtSlices(paths: readonly string[], o: CtSliceOptions): Promise<SourceImage[]> {
  const out: SourceImage[] = [];
  for (const path of paths) {
    if (path.endsWith('.png')) {
      const png = await readPng16(path);
      if (png.width < o.minSide || png.height < o.minSide) continue;
      const data = windowed(png.hu, 0, png.width * png.height, o.windowHu);
      out.push({ h: png.height, w: png.width, data, name: path, kind: 'ct' });
      continue;
    }
    const vol = await readNifti(path);
    const [nx, ny, nz] = vol.size;
    if (nx < o.minSide || ny < o.minSide) continue;
    const k0 = Math.floor(nz * 0.1),
      k1 = Math.max(k0, Math.ceil(nz * 0.9) - 1);
    const count = Math.min(o.slicesPerVolume, k1 - k0 + 1);
    for (let s = 0; s < count; s++) {
      const k = count === 1 ? Math.round((k0 + k1) / 2) : Math.round(k0 + ((k1 - k0) * s) / (count - 1));
      // NIfTI i runs fastest: row y = j, column x = i.
      const data = windowed(vol.data, k * nx * ny, nx * ny, o.windowHu);
      out.push({ h: ny, w: nx, data, name: `${path}#k=${k}`, kind: 'ct' });
    }
  }
  return out;
}
