import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { writeCohort } from '../../synth/write.js';
import { createProgress } from '../progress.js';
import { claimOutDir } from '../../util/out-dir.js';

function positiveInt(field: string, raw: string, min = 1): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min)
    throw new Recist3dError('E_USAGE', `Expected an integer >= ${min} for --${field} but received "${raw}"`, {
      field,
    });
  return v;
}

function fraction(field: string, raw: string, max = 1): number {
  const v = Number(raw);
  if (!(v >= 0 && v <= max))
    throw new Recist3dError(
      'E_USAGE',
      `Expected a number in [0, ${max}] for --${field} but received "${raw}"`,
      {
        field,
      },
    );
  return v;
}

interface SynthOptions {
  out: string;
  lesions: string;
  seed: string;
  followUp: string;
  touching: string;
  growthSigma: string;
  shapeLibrary?: string;
  shapeFraction: string;
}

/** `recist3d synth`: writes a DeepLesion-like phantom cohort (NIfTI images, GT masks, manifest). */
export function registerSynth(program: Command): void {
  program
    .command('synth')
    .description('generate a DeepLesion-like phantom cohort: NIfTI CT crops, GT masks and a manifest')
    .requiredOption('--out <dir>', 'output folder (images/, masks/, manifest.csv, cohort.json)')
    .option('--lesions <n>', 'number of lesion studies, follow-ups included', '200')
    .option('--seed <s>', 'seed; the same seed gives identical files', '1')
    .option('--follow-up <f>', 'fraction of patients with a follow-up study', '0.25')
    .option('--touching <f>', 'fraction of lesions touched by a structure of similar density', '0.2')
    .option(
      '--growth-sigma <s>',
      'follow-ups: SD of the log growth factor per lesion axis (0 = uniform growth, at most 0.5)',
      '0.18',
    )
    .option(
      '--shape-library <dir>',
      'folder of real lesion masks by kind (e.g. lesion-shapes); default: procedural',
    )
    .option(
      '--shape-fraction <f>',
      'fraction of lesions with a real shape when --shape-library is given',
      '0.5',
    )
    .action(async (opts: SynthOptions) => {
      const lesions = positiveInt('lesions', opts.lesions);
      const seed = positiveInt('seed', opts.seed, 0);
      const followUpFraction = fraction('follow-up', opts.followUp);
      const touchingFraction = fraction('touching', opts.touching);
      const growthAxisSigma = fraction('growth-sigma', opts.growthSigma, 0.5);
      const shapeLibraryFraction = fraction('shape-fraction', opts.shapeFraction);
      if (opts.shapeLibrary && !existsSync(opts.shapeLibrary))
        throw new Recist3dError('E_FILE_NOT_FOUND', `shape library folder not found: ${opts.shapeLibrary}`, {
          field: 'shape-library',
        });
      await using outDir = await claimOutDir(opts.out, { command: 'synth' });
      const progress = createProgress('synth', lesions);
      const t0 = Date.now();
      const out = await writeCohort(outDir.path, {
        lesions,
        seed,
        followUpFraction,
        touchingFraction,
        growthAxisSigma,
        shapeLibraryDir: opts.shapeLibrary ?? '',
        shapeLibraryFraction,
        onStudy: (done, _total, study) => progress.update(done, study.lesionId),
      });
      progress.stop();
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(`wrote ${out.records.length} studies to ${out.manifestPath} in ${secs} s\n`);
    });
}
