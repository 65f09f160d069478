import { affineFromGrid, affinesClose } from '../geometry/affine.js';
import { validateRecist } from '../recist/validate.js';
import type { LesionRecord } from '../types/recist.js';
import type { Volume } from '../types/volume.js';
import type { ManifestIssue } from './manifest-error.js';
import { readNiftiHeader } from './nifti.js';

/** Header-level checks of each record against its image (and mask) grid, 8 files at a time. */
export async function checkAgainstImages(records: LesionRecord[]): Promise<ManifestIssue[]> {
  const issues: ManifestIssue[] = [];
  const headers = new Map<string, Promise<Omit<Volume, 'data'>>>();
  const header = (p: string) => {
    if (!headers.has(p)) headers.set(p, readNiftiHeader(p));
    return headers.get(p)!;
  };
  const check = async (r: LesionRecord) => {
    const bad = (field: string, reason: string) => issues.push({ row: r.row, field, reason });
    let img;
    try {
      img = await header(r.imagePath);
    } catch (e) {
      bad('image', (e as Error).message);
      return;
    }
    if (r.keySlice >= img.size[2])
      bad('key_slice', `slice ${r.keySlice} is beyond the ${img.size[2]} slices of the image`);
    try {
      validateRecist(r.recist, img.size, img.spacingMm);
    } catch (e) {
      bad('recist', (e as Error).message.replace(/ \(field recist\)$/, ''));
    }
    if (!r.maskPath) return;
    try {
      const m = await header(r.maskPath);
      if (
        m.size.some((s, a) => s !== img.size[a]) ||
        !affinesClose(affineFromGrid(m), affineFromGrid(img), 1e-3)
      )
        bad('mask', `mask grid ${m.size.join('x')} differs from the image grid ${img.size.join('x')}`);
    } catch (e) {
      bad('mask', (e as Error).message);
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < records.length) await check(records[next++]);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return issues;
}
