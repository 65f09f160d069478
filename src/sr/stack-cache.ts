/**
 * The SR images of a job's ROI stacks kept on disk (`work/sr-images.bin` + `.json`), so that a resumed
 * `--sr` run does not run the stacked GAN again over every slice. The cache is keyed by the SR models' hashes
 * and by every stack's lesion, slice range and 8-bit images: any change of the models, the cohort, the ROI
 * options or the images themselves misses it, and the images are computed again.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CheckpointSr } from '../model/checkpoint.js';
import type { LesionStack } from '../types/stack.js';
import { stackSliceCount } from './stack-channels.js';
import { exists, readJson, writeFileAtomic, writeJsonAtomic } from '../util/fs.js';

const FORMAT = 'recist3d-sr-images-1';

interface CacheIndex {
  format: typeof FORMAT;
  /** SHA-1 of the SR models and of the stacks (lesion, slice range, images). */
  key: string;
  /** Slices over all stacks; the .bin holds each slice's denoised then enhanced image, stack by stack. */
  slices: number;
  bytes: number;
}

/** The key of the SR images of `stacks` made by the models `sr`. */
export function srImagesKey(stacks: readonly LesionStack[], sr: CheckpointSr): string {
  const h = createHash('sha1').update(JSON.stringify(sr));
  for (const s of stacks) {
    h.update(JSON.stringify([s.record.lesionId, s.kMin, s.kMax, s.keyRoi.geometry.sizePx]));
    for (const img of s.images) h.update(img);
  }
  return h.digest('hex');
}

/**
 * Sets `srDenoised` and `srEnhanced` of every stack from `<base>.bin` when its index holds `key` and the file
 * has the expected size; returns whether it did (false: no cache, another key, or a damaged file).
 */
export async function loadSrImages(
  base: string,
  key: string,
  stacks: readonly LesionStack[],
): Promise<boolean> {
  const index = await readJson<CacheIndex>(`${base}.json`).catch(() => undefined);
  if (index?.format !== FORMAT || index.key !== key || !(await exists(`${base}.bin`))) return false;
  const bin = await readFile(`${base}.bin`);
  const expected = stacks.reduce((a, s) => a + 2 * s.images.length * s.images[0].length, 0);
  if (bin.length !== expected || bin.length !== index.bytes) return false;
  let o = 0;
  const take = (n: number) => {
    const out = new Uint8Array(bin.buffer, bin.byteOffset + o, n);
    o += n;
    return out;
  };
  for (const s of stacks) {
    const px = s.images[0].length;
    s.srDenoised = s.images.map(() => take(px));
    s.srEnhanced = s.images.map(() => take(px));
  }
  return true;
}

/** Writes the SR images of `stacks` to `<base>.bin`, then its index `<base>.json` (both atomically). */
export async function saveSrImages(base: string, key: string, stacks: readonly LesionStack[]): Promise<void> {
  const parts = stacks.flatMap((s) => [...s.srDenoised!, ...s.srEnhanced!]);
  const bin = Buffer.concat(parts);
  await writeFileAtomic(`${base}.bin`, bin);
  const index: CacheIndex = {
    format: FORMAT,
    key,
    slices: stackSliceCount(stacks),
    bytes: bin.length,
  };
  await writeJsonAtomic(`${base}.json`, index);
}
