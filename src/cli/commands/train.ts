import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadManifest } from '../../io/manifest.js';
import { trainCnn, type CnnTrainOptions } from '../../pipeline/cnn-train.js';
import { choiceOption, numberOption } from '../options.js';
import { stageProgress } from '../stage-progress.js';
import { claimOutDir } from '../../util/out-dir.js';

interface TrainOpts {
  manifest: string;
  out: string;
  labels: string;
  arch: string;
  roiSize: string;
  baseWidth: string;
  epochs: string;
  samplesPerEpoch: string;
  batchSize: string;
  learningRate: string;
  seed: string;
  init?: string;
  trainSplits?: string;
  force?: boolean;
}

/** Parses the `train` options (exported for tests and scripts). */
export function trainOptionsFrom(opts: TrainOpts): CnnTrainOptions {
  return {
    labels: choiceOption(opts.labels, 'labels', ['grabcut-r', 'recist', 'full'] as const),
    net: {
      arch: choiceOption(opts.arch, 'arch', ['hnn', 'unet'] as const),
      baseWidth: numberOption(opts.baseWidth, 'base-width', 1, 256, true),
    },
    roiSize: numberOption(opts.roiSize, 'roi-size', 16, 512, true),
    fit: {
      maxEpochs: numberOption(opts.epochs, 'epochs', 1, 1000, true),
      minSamplesPerEpoch: numberOption(opts.samplesPerEpoch, 'samples-per-epoch', 1, 1e7, true),
      batchSize: numberOption(opts.batchSize, 'batch-size', 1, 4096, true),
      learningRate: numberOption(opts.learningRate, 'learning-rate', 1e-8, 1),
    },
    trainSplits: opts.trainSplits
      ? opts.trainSplits
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    init: opts.init ? resolve(opts.init) : '',
    seed: numberOption(opts.seed, 'seed', 0, 2 ** 31, true),
  };
}

/** `recist3d train`: a 2D lesion CNN on the RECIST slices of a manifest (paper section 3.2). */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a 2D lesion CNN (HNN or UNet) on the RECIST slice of every lesion (paper 3.2)')
    .requiredOption('--manifest <csv>', 'lesion manifest (docs/manifest.md)')
    .requiredOption(
      '--out <dir>',
      'model folder: model.pt + model.json, last.pt/json (resume), training-curve.svg',
    )
    .option(
      '--labels <kind>',
      'grabcut-r, recist (trimap, uncertain ignored) or full (ground-truth masks)',
      'grabcut-r',
    )
    .option('--arch <name>', 'network: hnn or unet', 'hnn')
    .option('--roi-size <px>', 'ROI working size in pixels (the CNN input)', '64')
    .option('--base-width <n>', 'width of the first network stage (8 is the default of run too)', '8')
    .option('--epochs <n>', 'maximum epochs (early stopping on a patient split)', '30')
    .option(
      '--samples-per-epoch <n>',
      'small cohorts: repeat the augmented set until an epoch has this many',
      '512',
    )
    .option('--batch-size <n>', 'images per optimizer step', '16')
    .option('--learning-rate <lr>', 'initial Adam learning rate (x0.2 on a validation plateau)', '1e-3')
    .option('--seed <n>', 'seed of the init, patient split, shuffling and augmentation', '0')
    .option('--init <checkpoint>', 'start from these weights (a .pt file or a model folder)')
    .option('--train-splits <list>', 'train only on lesions of these manifest splits, e.g. train,val')
    .option('--force', 'discard an existing model or unfinished run in --out')
    .action(async (opts: TrainOpts) => {
      const options = trainOptionsFrom(opts);
      await using outDir = await claimOutDir(opts.out, { command: 'train' });
      const out = outDir.path;
      if (opts.force) await outDir.clear();
      const records = await loadManifest(resolve(opts.manifest), { checkFiles: false });
      const progress = stageProgress();
      try {
        const r = await trainCnn(records, out, options, progress);
        r.net.dispose();
        for (const f of r.failures) {
          process.stderr.write(`recist3d: lesion ${f.lesionId} left out: ${f.code} ${f.message}\n`);
        }
        const m = r.sidecar.metrics as {
          epochs?: number;
          bestEpoch?: number;
          bestValDice?: number;
          trainSeconds?: number;
        };
        process.stdout.write(
          `${r.reused ? 'Model already trained' : 'Trained'} ${r.sidecar.net.arch} on ${String(r.sidecar.provenance.trainLesions)} lesions: ` +
            `${m.epochs} epochs, best epoch ${m.bestEpoch}, validation Dice ${Number(m.bestValDice).toFixed(3)} ` +
            `(against the training labels), ${Number(m.trainSeconds).toFixed(0)} s\n` +
            `Model: ${join(out, 'model.pt')} + model.json  Curve: ${join(out, 'training-curve.svg')}\n`,
        );
      } finally {
        progress.stop();
      }
    });
}
