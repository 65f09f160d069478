import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isRecist3dError, Recist3dError } from '../errors.js';
import type { LesionCategory, LesionRecord } from '../types/recist.js';
import { affinesClose, affineFromGrid } from '../geometry/affine.js';
import { readMask, readNifti } from './nifti.js';
import { writeManifest } from './manifest.js';
import { recistFromMask } from '../recist/from-mask.js';
import { resolveOptions } from '../util/options.js';

export interface MasksToManifestOptions {
  /** Folder of NIfTI images. */
  imagesDir: string;
  /** Folder of NIfTI masks with the same file names as the images. */
  masksDir: string;
  /** Manifest CSV to write. */
  out: string;
  /** Relative RECIST length noise (0..0.5), as reader variability. */
  noise?: number;
  /** Seed of the noise; each lesion uses seed + ":" + its id, so results do not depend on order. */
  seed?: number | string;
  /** Category written for every lesion. */
  category?: LesionCategory;
  /** Regular expression whose first group (or whole match) on the file stem is the patient id. */
  patientRegex?: string;
  /** Files read in parallel. */
  concurrency?: number;
  /** Called after each pair with (done, total, lesionId). */
  onProgress?: (done: number, total: number, lesionId: string) => void;
}

const DEFAULTS = {
  imagesDir: '',
  masksDir: '',
  out: '',
  noise: 0,
  seed: 0,
  category: 'unknown',
  patientRegex: '^[^_]+',
  concurrency: 4,
  onProgress: () => {},
} satisfies Required<MasksToManifestOptions>;

export interface PairFailure {
  lesionId: string;
  code: string;
  message: string;
}

export interface MasksToManifestResult {
  records: LesionRecord[];
  failures: PairFailure[];
  /** Images without a mask of the same name, and masks without an image. */
  unpaired: string[];
}

const NIFTI_EXT = /\.nii(\.gz)?$/;

/**
 * Builds a lesion manifest from image/mask pairs (paired by file name): for each pair the mask must lie on the
 * image grid (E_GRID_MISMATCH otherwise) and RECIST is measured as a reader would (recistFromMask).
 * Per-pair failures are collected, not thrown.
 */
export async function masksToManifest(options: MasksToManifestOptions): Promise<MasksToManifestResult> {
  const o = resolveOptions(DEFAULTS, options);
  o.imagesDir = resolve(o.imagesDir);
  o.masksDir = resolve(o.masksDir);
  const list = async (d: string) => {
    try {
      return (await readdir(d)).filter((f) => NIFTI_EXT.test(f)).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw new Recist3dError('E_FILE_NOT_FOUND', 'Folder not found', { file: d });
      throw e;
    }
  };
  const images = await list(o.imagesDir);
  const masks = new Set(await list(o.masksDir));
  const pairs = images.filter((f) => masks.has(f));
  const unpaired = [
    ...images.filter((f) => !masks.has(f)).map((f) => join(o.imagesDir, f)),
    ...[...masks].filter((f) => !images.includes(f)).map((f) => join(o.masksDir, f)),
  ];
  if (pairs.length === 0)
    throw new Recist3dError('E_FILE_NOT_FOUND', `No image/mask pairs with the same file name`, {
      file: o.masksDir,
    });
  const re = new RegExp(o.patientRegex);
  const results: (LesionRecord | PairFailure)[] = new Array(pairs.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < pairs.length) {
      const q = next++;
      const f = pairs[q];
      const lesionId = f.replace(NIFTI_EXT, '');
      results[q] = await onePair(o, f, lesionId, re).catch((e: unknown) => {
        if (!isRecist3dError(e)) throw e;
        return { lesionId, code: e.code, message: e.message };
      });
      o.onProgress(++done, pairs.length, lesionId);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
  const records = results.filter((r): r is LesionRecord => 'imagePath' in r);
  records.forEach((r, q) => (r.row = q + 2));
  const failures = results.filter((r): r is PairFailure => !('imagePath' in r));
  await writeManifest(o.out, records);
  return { records, failures, unpaired };
}

async function onePair(
  o: Required<MasksToManifestOptions>,
  f: string,
  lesionId: string,
  re: RegExp,
): Promise<LesionRecord> {
  const imagePath = join(o.imagesDir, f);
  const maskPath = join(o.masksDir, f);
  const [img, mask] = await Promise.all([readNifti(imagePath), readMask(maskPath)]);
  if (
    img.size.some((s, a) => s !== mask.size[a]) ||
    !affinesClose(affineFromGrid(img), affineFromGrid(mask), 1e-3)
  )
    throw new Recist3dError(
      'E_GRID_MISMATCH',
      `Mask grid ${mask.size.join('x')} does not match image grid ${img.size.join('x')} (or their affines differ)`,
      { file: maskPath, lesionId },
    );
  const m = recistFromMask(mask, {
    noise: o.noise,
    seed: `${o.seed}:${lesionId}`,
    context: { lesionId, file: maskPath },
  });
  const pm = re.exec(lesionId);
  const rec: LesionRecord = {
    lesionId,
    imagePath,
    keySlice: m.keySlice,
    recist: m.recist,
    category: o.category,
    maskPath,
    row: 0,
  };
  if (pm) rec.patientId = pm[1] ?? pm[0];
  return rec;
}
