/**
 * A tiny cohort written to a temp folder for the masks/eval tests: two good lesions (bright disks in
 * int16 CT volumes, 40 x 36 x 5, 0.8 x 0.8 x 2.5 mm, non-trivial origin), one degenerate RECIST, one RECIST
 * off the slice and one missing image file. Reference masks are written beside the images.
 */
import { join } from 'node:path';
import { writeNifti } from '../../src/io/nifti.js';
import { writeManifest } from '../../src/io/manifest.js';
import type { LesionRecord, Recist } from '../../src/types/recist.js';
import type { Vec3, Volume } from '../../src/types/volume.js';

export interface TinyLesion extends LesionRecord {
  /** Reference mask data (same grid as the image). */
  truth: Uint8Array;
}

const size: Vec3 = [40, 36, 5];

function disk(cx: number, cy: number, r: number, k: number): { image: Int16Array; mask: Uint8Array } {
  const [ni, nj, nk] = size;
  const image = new Int16Array(ni * nj * nk);
  const mask = new Uint8Array(ni * nj * nk);
  for (let kk = 0; kk < nk; kk++) {
    const rk = r * Math.sqrt(Math.max(0, 1 - ((kk - k) / 2) ** 2));
    for (let j = 0; j < nj; j++) {
      for (let i = 0; i < ni; i++) {
        const v = i + ni * (j + nj * kk);
        const inside = (i - cx) ** 2 + (j - cy) ** 2 <= rk * rk;
        mask[v] = inside ? 1 : 0;
        image[v] = (inside ? 60 : -80) + Math.round(6 * Math.sin(0.9 * i + 1.3 * j + kk));
      }
    }
  }
  return { image, mask };
}

function volume<T extends Int16Array | Uint8Array>(data: T): Volume<T> {
  return {
    size,
    spacingMm: [0.8, 0.8, 2.5],
    origin: [-12.5, 30.25, 101],
    direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    data,
    meta: {},
  };
}

export async function makeTinyCohort(dir: string): Promise<{ manifest: string; lesions: TinyLesion[] }> {
  const a = disk(18, 17, 7, 2);
  const b = disk(24, 20, 5, 3);
  await writeNifti(join(dir, 'a.nii.gz'), volume(a.image));
  await writeNifti(join(dir, 'a_mask.nii.gz'), volume(a.mask));
  await writeNifti(join(dir, 'b.nii.gz'), volume(b.image));
  await writeNifti(join(dir, 'b_mask.nii.gz'), volume(b.mask));
  const rA: Recist = {
    long: [
      [11, 17],
      [25, 17],
    ],
    short: [
      [18, 10],
      [18, 24],
    ],
  };
  const rB: Recist = {
    long: [
      [19, 20],
      [29, 20],
    ],
    short: [
      [24, 15],
      [24, 25],
    ],
  };
  const base = { category: 'soft_tissue' as const, window: [-160, 240] as [number, number] };
  const lesions: TinyLesion[] = [
    {
      ...base,
      lesionId: 'good_a',
      imagePath: join(dir, 'a.nii.gz'),
      maskPath: join(dir, 'a_mask.nii.gz'),
      keySlice: 2,
      recist: rA,
      row: 2,
      truth: a.mask,
    },
    {
      ...base,
      lesionId: 'degenerate',
      imagePath: join(dir, 'a.nii.gz'),
      maskPath: join(dir, 'a_mask.nii.gz'),
      keySlice: 2,
      recist: {
        long: [
          [18, 17],
          [18, 17],
        ],
        short: [
          [18, 17],
          [18, 17],
        ],
      },
      row: 3,
      truth: a.mask,
    },
    {
      ...base,
      lesionId: 'good_b',
      imagePath: join(dir, 'b.nii.gz'),
      maskPath: join(dir, 'b_mask.nii.gz'),
      keySlice: 3,
      recist: rB,
      row: 4,
      truth: b.mask,
    },
    {
      ...base,
      lesionId: 'outside',
      imagePath: join(dir, 'b.nii.gz'),
      maskPath: join(dir, 'b_mask.nii.gz'),
      keySlice: 3,
      recist: {
        long: [
          [30, 20],
          [60, 20],
        ],
        short: [
          [45, 15],
          [45, 25],
        ],
      },
      row: 5,
      truth: b.mask,
    },
    {
      ...base,
      lesionId: 'no_image',
      imagePath: join(dir, 'missing.nii.gz'),
      maskPath: join(dir, 'a_mask.nii.gz'),
      keySlice: 2,
      recist: rA,
      row: 6,
      truth: a.mask,
    },
  ];
  const manifest = join(dir, 'manifest.csv');
  await writeManifest(manifest, lesions);
  return { manifest, lesions };
}
