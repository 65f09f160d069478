/**
 * The tiny cohort (two good lesions, three bad ones) plus lesions whose image is hostile in the ways fuzzing
 * found (issue 13): vox_offset NaN, every voxel +Inf, a NaN block, and RECIST axes that do not cross. Each
 * bad lesion comes with the error code the pipeline must report for it.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorCode } from '../../src/errors.js';
import { readNifti, writeNifti } from '../../src/io/nifti.js';
import { writeManifest } from '../../src/io/manifest.js';
import type { LesionRecord } from '../../src/types/recist.js';
import { NIFTI_OFFSETS, niftiBytes } from './nifti-bytes.js';
import { makeTinyCohort, type TinyLesion } from './tiny-cohort.js';

export interface HostileCohort {
  manifest: string;
  /** Every lesion of the manifest, in order. */
  lesions: TinyLesion[];
  /** Lesions that must come out fine. */
  good: string[];
  /** The code each bad lesion must fail with. */
  bad: Record<string, ErrorCode>;
}

export async function makeHostileCohort(dir: string): Promise<HostileCohort> {
  const tiny = await makeTinyCohort(dir);
  const a = tiny.lesions.find((l) => l.lesionId === 'good_a')!;
  const img = await readNifti(a.imagePath);
  // the good image with vox_offset NaN in its header
  const nanOffset = join(dir, 'nan-offset.nii');
  await writeFile(
    nanOffset,
    niftiBytes(img, (v) => v.setFloat32(NIFTI_OFFSETS.voxOffset, Number.NaN, true)),
  );
  const inf = join(dir, 'all-inf.nii.gz');
  await writeNifti(inf, { ...img, data: new Float32Array(img.data.length).fill(Infinity) });
  const block = Float32Array.from(img.data);
  block.fill(Number.NaN, 100, 400);
  const nanBlock = join(dir, 'nan-block.nii.gz');
  await writeNifti(nanBlock, { ...img, data: block });
  const extra: TinyLesion[] = [
    { ...a, lesionId: 'nan_offset', imagePath: nanOffset },
    { ...a, lesionId: 'all_inf', imagePath: inf },
    { ...a, lesionId: 'nan_block', imagePath: nanBlock },
    {
      ...a,
      lesionId: 'no_cross',
      // the short axis moved 20 px along the long axis's line: it misses the long axis by 13 px
      recist: {
        long: a.recist.long,
        short: [
          [a.recist.short[0][0] + 20, a.recist.short[0][1]],
          [a.recist.short[1][0] + 20, a.recist.short[1][1]],
        ],
      },
    },
  ];
  const lesions = [...tiny.lesions, ...extra].map((l, q) => ({ ...l, row: q + 2 }));
  await writeManifest(tiny.manifest, lesions as LesionRecord[]);
  return {
    manifest: tiny.manifest,
    lesions,
    good: ['good_a', 'good_b'],
    bad: {
      degenerate: 'E_RECIST_DEGENERATE',
      outside: 'E_RECIST_OUTSIDE',
      no_image: 'E_FILE_NOT_FOUND',
      nan_offset: 'E_NIFTI_CORRUPT',
      all_inf: 'E_NIFTI_VALUES',
      nan_block: 'E_NIFTI_VALUES',
      no_cross: 'E_RECIST_INVALID',
    },
  };
}
