import { join } from 'node:path';
import type { Command } from 'commander';
import { loadManifest } from '../../io/manifest.js';
import { runPipeline } from '../../pipeline/run.js';
import { trackCohort } from '../../pipeline/track.js';
import { writeCohort } from '../../synth/write.js';
import { numberOption } from '../options.js';
import { createProgress } from '../progress.js';
import { stageProgress } from '../stage-progress.js';
import { addRunOptions, printRunSummary, RUN_COMMAND_DEFAULTS, runOptionsFrom } from './run.js';
import { exists } from '../../util/fs.js';
import { claimOutDir } from '../../util/out-dir.js';

interface DemoOpts {
  out: string;
  lesions: string;
  cohortSeed: string;
  [k: string]: unknown;
}

/**
 * The demo's own defaults: a 48-study phantom cohort and a shorter training than `run`'s, sized to finish in a
 * few minutes on 2 cores.
 */
export const DEMO_DEFAULTS = {
  ...RUN_COMMAND_DEFAULTS,
  out: 'recist3d-demo',
  lesions: 48,
  cohortSeed: 1,
  epochs: 15,
  fineTuneEpochs: 6,
};

/**
 * `recist3d demo`: synth + run + eval on a small phantom cohort, with the report. Sized to finish in well
 * under 10 minutes on 2 cores; reruns resume (the cohort is reused when it exists).
 */
export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'generate a small phantom cohort, run WSSS on it, score it against the phantom truth and write the report',
    )
    .option('--out <dir>', 'output folder', DEMO_DEFAULTS.out)
    .option('--lesions <n>', 'phantom lesion studies', String(DEMO_DEFAULTS.lesions))
    .option('--cohort-seed <n>', 'seed of the phantom cohort', String(DEMO_DEFAULTS.cohortSeed));
  addRunOptions(cmd, DEMO_DEFAULTS);
  cmd.action(async (opts: DemoOpts) => {
    await using outDir = await claimOutDir(opts.out, { command: 'demo' });
    const out = outDir.path;
    if (opts.force) await outDir.clear();
    const cohortDir = join(out, 'cohort');
    const manifest = join(cohortDir, 'manifest.csv');
    const t0 = Date.now();
    if (!(await exists(manifest))) {
      const lesions = numberOption(opts.lesions, 'lesions', 2, 100000, true);
      const bar = createProgress('synth', lesions);
      await writeCohort(cohortDir, {
        lesions,
        seed: numberOption(opts.cohortSeed, 'cohort-seed', 0, 2 ** 31, true),
        onStudy: (done, _total, study) => bar.update(done, study.lesionId),
      });
      bar.stop();
    } else {
      process.stderr.write(`[synth] reusing the cohort in ${cohortDir}\n`);
    }
    const runDir = join(out, 'run');
    const progress = stageProgress();
    try {
      const summary = await runPipeline(manifest, runDir, runOptionsFrom(opts as never), progress);
      printRunSummary(summary, runDir);
      const track = await trackCohort(await loadManifest(manifest), runDir);
      if (track.pairs.length) {
        process.stdout.write(
          `\nFollow-up: ${track.pairs.length} lesion pairs; R² of the volume change against the phantom truth: ` +
            `3D masks ${track.r2Predicted.toFixed(3)}, RECIST ellipsoid ${track.r2Ellipsoid.toFixed(3)} (recist3d track)\n`,
        );
      }
      process.stdout.write(
        `Demo finished in ${((Date.now() - t0) / 1000).toFixed(0)} s. Open ${join(runDir, 'report.html')}\n`,
      );
    } finally {
      progress.stop();
    }
  });
}
