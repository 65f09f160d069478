import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadManifest } from '../../io/manifest.js';
import { meanStd, formatStat } from '../../metrics/aggregate.js';
import { segmentCohort2d } from '../../pipeline/segment-cohort.js';
import { SEGMENT_KEY_SLICE_DEFAULTS } from '../../steps/key-slice.js';
import { numberOption } from '../options.js';
import { stageProgress } from '../stage-progress.js';
import { claimOutDir } from '../../util/out-dir.js';
import { staleMasks, staleMasksNote } from '../../util/stale-masks.js';

interface SegmentOpts {
  model: string;
  manifest: string;
  out: string;
  gc?: boolean;
  tta?: boolean;
  threshold: string;
  keyCoverage: string;
  iterations: string;
  sr?: string;
}

const D = SEGMENT_KEY_SLICE_DEFAULTS;

/** `recist3d segment`: RECIST-slice masks from a trained 2D model, optionally refined by CNN-GC. */
export function registerSegment(program: Command): void {
  program
    .command('segment')
    .description('segment the RECIST slice of every lesion with a model from `recist3d train` (any manifest)')
    .requiredOption(
      '--model <dir>',
      'model folder written by `recist3d train` or `run` (model.pt + model.json)',
    )
    .requiredOption('--manifest <csv>', 'lesion manifest (docs/manifest.md)')
    .requiredOption(
      '--out <dir>',
      'output folder: masks/<lesion_id>.nii.gz on each input grid and segment.csv',
    )
    .option('--gc', 'CNN-GC: refine with GrabCut from the CNN trimap and the RECIST (CNN mask as fallback)')
    .option('--tta', 'test-time augmentation: average the CNN maps over 4 flips (4x inference time)')
    .option('--threshold <p>', 'probability threshold of the CNN mask', String(D.threshold))
    .option(
      '--key-coverage <f>',
      'lower the threshold until the mask covers this share of the RECIST axes (0-1; as in run)',
      String(D.keyAxisCoverage),
    )
    .option('--iterations <n>', 'GrabCut iterations for --gc', String(D.iterations))
    .option(
      '--sr <dir>',
      'HNN-SR: the stacked GAN folder the model was trained with (required for, and only for, a model trained with --sr)',
    )
    .action(async (opts: SegmentOpts) => {
      const options = {
        gc: opts.gc === true,
        tta: opts.tta === true,
        threshold: numberOption(opts.threshold, 'threshold', 0, 1),
        keyAxisCoverage: numberOption(opts.keyCoverage, 'key-coverage', 0, 1),
        iterations: numberOption(opts.iterations, 'iterations', 1, 100, true),
      };
      // a missing image becomes a failed row in segment.csv instead of stopping the cohort
      await using outDir = await claimOutDir(opts.out, { command: 'segment' });
      const records = await loadManifest(resolve(opts.manifest), { checkFiles: false });
      const out = outDir.path;
      const progress = stageProgress();
      let r;
      try {
        r = await segmentCohort2d(resolve(opts.model), records, out, options, progress, {
          sr: opts.sr === undefined ? undefined : resolve(opts.sr),
        });
      } finally {
        progress.stop();
      }
      for (const row of r.rows.filter((x) => x.status === 'failed')) {
        process.stderr.write(`recist3d: lesion ${row.lesionId} failed: ${row.error}\n`);
      }
      const dice = r.rows.filter((x) => Number.isFinite(x.dice)).map((x) => x.dice);
      process.stdout.write(
        `${r.ok}/${r.rows.length} lesions segmented in ${r.seconds.toFixed(1)} s` +
          `${r.failed ? ` (${r.failed} failed: see segment.csv)` : ''}\n` +
          (dice.length
            ? `RECIST-slice Dice against the manifest masks: ${formatStat(meanStd(dice), 3)} (n=${dice.length})\n`
            : '') +
          `Masks: ${out}/masks/  Table: ${out}/segment.csv\n`,
      );
      const written = r.rows.filter((x) => x.status === 'ok').map((x) => basename(x.mask));
      const stale = await staleMasks(join(out, 'masks'), written);
      process.stderr.write(staleMasksNote(join(out, 'masks'), stale, 'delete them or use a new --out'));
      if (r.ok === 0 && r.rows.length > 0) process.exitCode = 1;
    });
}
