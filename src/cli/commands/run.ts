import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatMetricsTable } from '../../metrics/aggregate.js';
import { runPipeline, type RunOptions } from '../../pipeline/run.js';
import { WSSS_DEFAULTS } from '../../pipeline/wsss.js';
import { SEGMENT3D_DEFAULTS } from '../../steps/5-segment-3d.js';
import { FIT_DEFAULTS } from '../../train/fit.js';
import { choiceOption, numberOption, splitList } from '../options.js';
import { stageProgress } from '../stage-progress.js';
import { claimJobOut } from '../job-out.js';
import { staleMasks, staleMasksNote } from '../../util/stale-masks.js';
import { maskFileName } from '../../io/mask-file-name.js';

/** What commander hands over for the options of `addRunOptions` (strings; flags as booleans). */
export interface RunOpts {
  manifest: string;
  out: string;
  rounds: string;
  arch: string;
  labels: string;
  roiSize: string;
  baseWidth: string;
  fineTuneSamples: string;
  epochs: string;
  fineTuneEpochs: string;
  seed: string;
  gc?: boolean;
  tta?: boolean;
  keyCoverage: string;
  zExtent: string;
  nestMm: string;
  endConfidence: string;
  priorThreshold: string;
  priorOutThreshold: string;
  huExclusion: boolean;
  ringExclusion: boolean;
  shiftAugment: string;
  init?: string;
  trainSplits?: string;
  recistPrior?: boolean;
  context: string;
  pad: string;
  report: boolean;
  force?: boolean;
  sr?: string;
}

/** Defaults that a command (the demo) sets differently from `run`; the rest come from the DEFAULTS objects. */
export interface RunCommandDefaults {
  epochs: number;
  fineTuneEpochs: number;
  rounds: number;
}

const W = WSSS_DEFAULTS;
const S = SEGMENT3D_DEFAULTS;

/** `run`'s own defaults: those of the WSSS job. */
export const RUN_COMMAND_DEFAULTS = {
  epochs: W.fit.maxEpochs,
  fineTuneEpochs: W.fineTune.maxEpochs ?? W.fit.maxEpochs,
  rounds: W.rounds,
} satisfies RunCommandDefaults;

/** Adds the options shared by `run` and `demo`; every default shown comes from the DEFAULTS objects. */
export function addRunOptions(cmd: Command, defaults: RunCommandDefaults = RUN_COMMAND_DEFAULTS): Command {
  return cmd
    .option(
      '--rounds <k>',
      'self-paced rounds K: WSSS-3/5/7 = 1/2/3; 0 = RECIST-slice model only',
      String(defaults.rounds),
    )
    .option('--arch <name>', 'network: hnn or unet', W.net.arch)
    .option(
      '--labels <kind>',
      'round-0 labels: grabcut-r, recist (trimap, uncertain ignored) or full (ground truth)',
      W.labels,
    )
    .option(
      '--roi-size <px>',
      'ROI working size in pixels (CNN input and GrabCut grid)',
      String(W.stack.roiSize),
    )
    .option(
      '--base-width <n>',
      'width of the first network stage (8: LIDC Dice as good as 16, 1.6x faster)',
      String(W.net.baseWidth),
    )
    .option(
      '--epochs <n>',
      'maximum epochs of round 0 (early stopping on a patient split)',
      String(defaults.epochs),
    )
    .option(
      '--fine-tune-epochs <n>',
      'maximum epochs of each self-paced round',
      String(defaults.fineTuneEpochs),
    )
    .option(
      '--fine-tune-samples <n>',
      'cap on images per fine-tuning epoch, a seeded subset of the harvested slices (0 = all; a cap trades accuracy for time)',
      String(W.fineTune.maxSamplesPerEpoch),
    )
    .option('--seed <n>', 'seed of every random step', String(W.seed))
    .option('--gc', 'CNN-GC: refine every slice with GrabCut from the CNN trimap')
    .option(
      '--key-coverage <f>',
      'lower the RECIST-slice threshold until the mask covers this share of the RECIST axes (0-1)',
      String(S.keyAxisCoverage),
    )
    .option(
      '--z-extent <f>',
      "clear slices beyond this fraction of the Pythagorean z extent (L/2) plus one slice (1 = the paper's rule)",
      String(S.zExtent),
    )
    .option(
      '--nest-mm <mm>',
      "outward from the key slice, keep each slice's mask within the previous one grown by this many mm (-1 = off)",
      String(S.nestMm),
    )
    .option(
      '--end-confidence <ratio>',
      "outward from the key slice, end the lesion at the first slice whose confidence (mean probability of its mask's pixels >= 0.5) is below this fraction of the key slice's (0 = off)",
      String(S.endConfidence),
    )
    .option(
      '--prior-threshold <t>',
      'RECIST prior: threshold inside the estimated RECIST ellipse is at most this (0 = off)',
      String(S.priorThreshold),
    )
    .option(
      '--prior-out-threshold <t>',
      'RECIST prior: outside the estimated RECIST ellipse the threshold is at least this, for lesions whose surroundings have their HU (0 = off)',
      String(S.priorOutThreshold),
    )
    .option('--no-hu-exclusion', 'keep voxels whose HU cannot belong to the lesion (bone, air) in the masks')
    .option(
      '--no-ring-exclusion',
      "off the key slice, keep voxels whose HU looks like the lesion's surroundings and not like the lesion",
    )
    .option(
      '--train-splits <list>',
      'train only on lesions of these manifest splits (e.g. the other folds of a cross-validation); every lesion is segmented',
    )
    .option(
      '--init <checkpoint>',
      'start round 0 from these weights (a .pt file or a model folder of the same architecture), e.g. a model trained on a larger cohort',
    )
    .option(
      '--shift-augment <f>',
      'training augmentation: random translation of each ROI by up to this fraction of its side (0 = off)',
      String(FIT_DEFAULTS.augment.shift),
    )
    .option('--tta', 'test-time augmentation of the final masks: average over 4 flips (4x inference time)')
    .option(
      '--recist-prior',
      'give the network a second input channel: the (estimated) RECIST ellipse of each slice',
    )
    .option(
      '--context <n>',
      'give the network the n neighbouring slices on each side of a slice as extra input channels (2.5D)',
      String(W.net.context),
    )
    .option(
      '--pad <mode>',
      "ROI beyond the image: 'reflect' (mirrored; right for cropped volumes) or 'constant' (-1024 HU)",
      W.stack.padMode,
    )
    .option(
      '--sr <dir>',
      'HNN-SR: a stacked GAN folder of `recist3d sr train`; the network also takes the denoised and enhanced image of each slice (docs/sr.md)',
    )
    .option('--no-report', 'skip report.html')
    .option('--force', 'discard finished stages in --out and start over');
}

/** The run options of parsed CLI strings; every value is range-checked and named in its error. */
export function runOptionsFrom(opts: RunOpts): RunOptions {
  return {
    rounds: numberOption(opts.rounds, 'rounds', 0, 10, true),
    labels: choiceOption(opts.labels, 'labels', ['grabcut-r', 'recist', 'full'] as const),
    net: {
      arch: choiceOption(opts.arch, 'arch', ['hnn', 'unet'] as const),
      baseWidth: numberOption(opts.baseWidth, 'base-width', 1, 256, true),
      recistPrior: opts.recistPrior === true,
      context: numberOption(opts.context, 'context', 0, 8, true),
    },
    stack: {
      roiSize: numberOption(opts.roiSize, 'roi-size', 16, 512, true),
      padMode: choiceOption(opts.pad, 'pad', ['constant', 'reflect'] as const),
    },
    fit: {
      maxEpochs: numberOption(opts.epochs, 'epochs', 1, 1000, true),
      augment: { shift: numberOption(opts.shiftAugment, 'shift-augment', 0, 0.45, false) },
    },
    fineTune: {
      maxEpochs: numberOption(opts.fineTuneEpochs, 'fine-tune-epochs', 1, 1000, true),
      maxSamplesPerEpoch: numberOption(opts.fineTuneSamples, 'fine-tune-samples', 0, 1e7, true),
    },
    seed: numberOption(opts.seed, 'seed', 0, 2 ** 31, true),
    ...(opts.init ? { init: resolve(opts.init) } : {}),
    ...(opts.trainSplits ? { trainSplits: splitList(opts.trainSplits) } : {}),
    ...(opts.sr ? { sr: resolve(opts.sr) } : {}),
    segment: {
      gc: opts.gc === true,
      tta: opts.tta === true,
      keyAxisCoverage: numberOption(opts.keyCoverage, 'key-coverage', 0, 1, false),
      zExtent: numberOption(opts.zExtent, 'z-extent', 0.1, 2, false),
      nestMm: numberOption(opts.nestMm, 'nest-mm', -1, 1000, false),
      endConfidence: numberOption(opts.endConfidence, 'end-confidence', 0, 1, false),
      priorThreshold: numberOption(opts.priorThreshold, 'prior-threshold', 0, 1, false),
      priorOutThreshold: numberOption(opts.priorOutThreshold, 'prior-out-threshold', 0, 1, false),
      ...(opts.huExclusion === false ? { huExclusion: null } : {}),
      ...(opts.ringExclusion === false ? { ringExclusion: null } : {}),
    },
    report: opts.report,
  };
}

/** Prints the summary tables of a finished run. */
export function printRunSummary(summary: Awaited<ReturnType<typeof runPipeline>>, outDir: string): void {
  const failed = summary.lesions.filter((l) => l.error);
  process.stdout.write(
    `\n${summary.lesions.length - failed.length}/${summary.lesions.length} lesions segmented in ${summary.totalSeconds.toFixed(1)} s` +
      `${failed.length ? ` (${failed.length} failed: see lesions.csv)` : ''}\n`,
  );
  if (summary.metrics3d) {
    process.stdout.write(`\n3D (against ground truth):\n${formatMetricsTable(summary.metrics3d)}\n`);
  }
  if (summary.metricsKey)
    process.stdout.write(`\nRECIST slice:\n${formatMetricsTable(summary.metricsKey)}\n`);
  process.stdout.write(
    `\nMasks: ${outDir}/masks/  Table: ${outDir}/lesions.csv  Report: ${outDir}/report.html\n`,
  );
}

/** `recist3d run`: the main job. */
export function registerRun(program: Command): void {
  addRunOptions(
    program
      .command('run')
      .description('train WSSS on a manifest and write 3D masks, volumes, lesions.csv and report.html')
      .requiredOption('--manifest <csv>', 'lesion manifest (docs/manifest.md)')
      .requiredOption('--out <dir>', 'output folder (resumes finished stages when rerun)'),
  ).action(async (opts: RunOpts) => {
    const options = runOptionsFrom(opts);
    // one process, or one rank of a distributed job (docs/distributed.md)
    const job = await claimJobOut(opts.out, 'run', opts.force === true);
    await using outDir = job.outDir;
    const out = outDir.path;
    const progress = stageProgress();
    try {
      const summary = await runPipeline(resolve(opts.manifest), out, options, progress);
      if (job.group && job.group.rank > 0) {
        process.stdout.write(
          `rank ${job.group.rank}: segmented ${summary.lesions.length} lesion(s) of its shard; rank 0 wrote ${out}/lesions.csv\n`,
        );
        return;
      }
      printRunSummary(summary, out);
      const written = summary.lesions.filter((l) => l.result).map((l) => maskFileName(l.record.lesionId));
      const stale = await staleMasks(join(out, 'masks'), written);
      process.stderr.write(staleMasksNote(join(out, 'masks'), stale, '--force starts over without them'));
    } finally {
      progress.stop();
    }
  });
}
