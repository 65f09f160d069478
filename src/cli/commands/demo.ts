import { join } from 'node:path';
import type { Command } from 'commander';
import { exists } from '../../pipeline/artifacts.js';
import { loadManifest } from '../../io/manifest.js';
import { runPipeline } from '../../pipeline/run.js';
import { trackCohort } from '../../pipeline/track.js';
import { writeCohort } from '../../synth/write.js';
import { numberOption } from '../options.js';
import { createProgress } from '../progress.js';
import { stageProgress } from '../stage-progress.js';
import { addRunOptions, printRunSummary, runOptionsFrom } from './run.js';
import { claimOutDir } from '../../util/out-dir.js';

interface DemoOpts {
  out: string;
  lesions: string;
  cohortSeed: string;
  [k: string]: unknown;
}

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
    .option('--out <dir>', 'output folder', 'recist3d-demo')
    .option('--lesions <n>', 'phantom lesion studies', '48')
    .option('--cohort-seed <n>', 'seed of the phantom cohort', '1');
  addRunOptions(cmd, { epochs: '15', fineTuneEpochs: '6', rounds: '2' });
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
