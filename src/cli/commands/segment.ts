import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadManifest } from '../../io/manifest.js';
import { meanStd, formatStat } from '../../metrics/aggregate.js';
import { segmentCohort2d } from '../../pipeline/segment2d-cohort.js';
import { numberOption } from '../options.js';
import { stageProgress } from '../stage-progress.js';
import { claimOutDir } from '../../util/out-dir.js';
import { staleMasks, staleMasksNote } from '../../util/stale-masks.js';

interface SegmentOpts {
  model: string;
  manifest: string;
  out: string;
  gc?: boolean;
  threshold: string;
  iterations: string;
}

/** `recist3d segment`: RECIST-slice masks from a trained 2D model, optionally refined by CNN-GC. */
export function registerSegment(program: Command): void {
  program
    .command('segment')
    .description('segment the RECIST slice of every lesion with a model from `recist3d train` (any manifest)')
    .requiredOption('--model <dir>', 'model folder written by `recist3d train` (model.pt + model.json)')
    .requiredOption('--manifest <csv>', 'lesion manifest (docs/manifest.md)')
    .requiredOption(
      '--out <dir>',
      'output folder: masks/<lesion_id>.nii.gz on each input grid and segment.csv',
    )
    .option('--gc', 'CNN-GC: refine with GrabCut from the CNN trimap and the RECIST (CNN mask as fallback)')
    .option('--threshold <p>', 'probability threshold of the CNN mask', '0.5')
    .option('--iterations <n>', 'GrabCut iterations for --gc', '5')
    .action(async (opts: SegmentOpts) => {
      const options = {
        gc: opts.gc === true,
        threshold: numberOption(opts.threshold, 'threshold', 0, 1),
        iterations: numberOption(opts.iterations, 'iterations', 1, 100, true),
      };
      // a missing image becomes a failed row in segment.csv instead of stopping the cohort
      await using outDir = await claimOutDir(opts.out, { command: 'segment' });
      const records = await loadManifest(resolve(opts.manifest), { checkFiles: false });
      const out = outDir.path;
      const progress = stageProgress();
      let r;
      try {
        r = await segmentCohort2d(resolve(opts.model), records, out, options, progress);
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
