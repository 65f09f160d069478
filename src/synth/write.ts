/**
 * Writes a phantom cohort to disk: images/<lesion_id>.nii.gz (int16 HU), masks/<lesion_id>.nii.gz
 * (uint8 0/1), manifest.csv (docs/manifest.md plus extra columns) and cohort.json (options, provenance).
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { writeManifest } from '../io/manifest.js';
import { writeNifti } from '../io/nifti.js';
import type { LesionRecord } from '../types/recist.js';
import { gitRevision, packageVersion } from '../util/provenance.js';
import { COHORT_DEFAULTS, generateStudy, planCohort, type CohortCase, type CohortOptions } from './cohort.js';

/**
 * Columns after the standard ones: `touching` (1 = a structure of similar density touches the lesion),
 * `timepoint` (0 baseline, 1 follow-up), `volume_ratio` (true volume over the baseline's, by construction),
 * `volume_mm3` (GT mask volume), `long_mm`/`short_mm` (RECIST on the GT), `kind` (cyst, hypodense, ...),
 * `noise_hu` (CT noise sigma), `shape` (`procedural`, or the real mask used, relative to the shape library).
 */
export const EXTRA_COLUMNS = [
  'touching',
  'timepoint',
  'volume_ratio',
  'volume_mm3',
  'long_mm',
  'short_mm',
  'kind',
  'noise_hu',
  'shape',
] as const;

export interface WriteCohortOptions extends CohortOptions {
  /** Called after each study is written (for a progress bar). */
  onStudy?: (done: number, total: number, study: CohortCase) => void;
}

export interface WrittenCohort {
  manifestPath: string;
  records: LesionRecord[];
  /** Extra per-study values, in the order of `records`. */
  extras: Record<(typeof EXTRA_COLUMNS)[number], string>[];
}

/** Generates the cohort of `options` into `outDir` (created if missing). Deterministic in options. */
export async function writeCohort(outDir: string, options: WriteCohortOptions = {}): Promise<WrittenCohort> {
  const { onStudy, ...cohortOptions } = options;
  const dir = resolve(outDir);
  await mkdir(join(dir, 'images'), { recursive: true });
  await mkdir(join(dir, 'masks'), { recursive: true });
  const plans = planCohort(cohortOptions);
  const records: LesionRecord[] = [];
  const extras: WrittenCohort['extras'] = [];
  let pending: Promise<unknown> = Promise.resolve();
  for (const [t, plan] of plans.entries()) {
    const study = generateStudy(plan);
    const imagePath = join(dir, 'images', `${plan.lesionId}.nii.gz`);
    const maskPath = join(dir, 'masks', `${plan.lesionId}.nii.gz`);
    // compress (fast level: noisy int16 barely compresses further) and write while the next study renders
    await pending;
    pending = Promise.all([
      writeNifti(imagePath, study.image, {
        description: `recist3d phantom ${plan.lesionId}`,
        compressionLevel: 1,
      }),
      writeNifti(maskPath, study.mask, {
        description: `recist3d phantom GT ${plan.lesionId}`,
        compressionLevel: 1,
      }),
    ]);
    records.push({
      lesionId: plan.lesionId,
      imagePath,
      keySlice: study.recist.keySlice,
      recist: study.recist.recist,
      category: plan.category,
      split: plan.split,
      maskPath,
      patientId: plan.patientId,
      studyDate: plan.studyDate,
      trackId: plan.trackId,
      window: plan.windowHu,
      row: t + 2,
    });
    extras.push({
      touching: plan.touching ? '1' : '0',
      timepoint: String(plan.timepoint),
      volume_ratio: plan.volumeRatio.toFixed(4),
      volume_mm3: study.volumeMm3.toFixed(1),
      long_mm: study.recist.longMm.toFixed(2),
      short_mm: study.recist.shortMm.toFixed(2),
      kind: study.kind,
      noise_hu: study.noiseSigmaHu.toFixed(1),
      shape: shapeName(study, cohortOptions.shapeLibraryDir),
    });
    onStudy?.(t + 1, plans.length, study);
  }
  await pending;
  const manifestPath = join(dir, 'manifest.csv');
  await writeManifest(manifestPath, records);
  await appendColumns(manifestPath, extras);
  const o = { ...COHORT_DEFAULTS, ...cohortOptions };
  const provenance = {
    generator: 'recist3d synth',
    options: o,
    gitRevision: gitRevision(),
    version: packageVersion(),
  };
  await writeFile(join(dir, 'cohort.json'), JSON.stringify(provenance, null, 2) + '\n');
  return { manifestPath, records, extras };
}

/** `procedural`, or the real mask the lesion was drawn from, relative to the library folder. */
function shapeName(study: CohortCase, libraryDir = ''): string {
  const file = String(study.image.meta.shape ?? 'procedural');
  return file === 'procedural' || !libraryDir
    ? file
    : relative(resolve(libraryDir), file).replaceAll(',', '_');
}

/** Appends EXTRA_COLUMNS to a manifest written by writeManifest (one data line per record, in order). */
async function appendColumns(path: string, extras: WrittenCohort['extras']): Promise<void> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
  const out = [
    `${lines[0]},${EXTRA_COLUMNS.join(',')}`,
    ...lines.slice(1).map((l, t) => `${l},${EXTRA_COLUMNS.map((c) => extras[t][c]).join(',')}`),
  ];
  await writeFile(path, out.join('\n') + '\n');
}
