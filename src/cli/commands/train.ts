import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadManifest } from '../../io/manifest.js';
import { CNN_TRAIN_DEFAULTS, trainCnn, type CnnTrainOptions } from '../../pipeline/train-cnn.js';
import { WSSS_DEFAULTS } from '../../pipeline/wsss.js';
import { choiceOption, numberOption, splitList } from '../options.js';
import { stageProgress } from '../stage-progress.js';
import { claimJobOut } from '../job-out.js';

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
  sr?: string;
}

/** Parses the `train` options (exported for tests and scripts). */
export function trainOptionsFrom(opts: TrainOpts): CnnTrainOptions {
  return {
    labels: choiceOption(opts.labels, 'labels', ['grabcut-r', 'recist', 'full'] as const),
    net: {
      arch: choiceOption(opts.arch, 'arch', ['hnn', 'unet'] as const),
      baseWidth: numberOption(opts.baseWidth, 'base-width', 1, 256, true),
    },
    stack: { roiSize: numberOption(opts.roiSize, 'roi-size', 16, 512, true) },
    fit: {
      maxEpochs: numberOption(opts.epochs, 'epochs', 1, 1000, true),
      minSamplesPerEpoch: numberOption(opts.samplesPerEpoch, 'samples-per-epoch', 1, 1e7, true),
      batchSize: numberOption(opts.batchSize, 'batch-size', 1, 4096, true),
      learningRate: numberOption(opts.learningRate, 'learning-rate', 1e-8, 1),
    },
    trainSplits: opts.trainSplits ? splitList(opts.trainSplits) : [],
    init: opts.init ? resolve(opts.init) : '',
    seed: numberOption(opts.seed, 'seed', 0, 2 ** 31, true),
    ...(opts.sr ? { sr: resolve(opts.sr) } : {}),
  };
}

const W = WSSS_DEFAULTS;
const F = CNN_TRAIN_DEFAULTS.fit;

/** `recist3d train`: a 2D lesion CNN on the RECIST slices of a manifest (paper section 3.2). */
export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a 2D lesion CNN (HNN or UNet) on the RECIST slice of every lesion (paper 3.2)')
    .requiredOption('--manifest <csv>', 'lesion manifest (docs/manifest.md)')
    .requiredOption(
      '--out <dir>',
      'model folder: model.pt + model.json (what `segment --model` reads), rounds/, work/, training-curve.svg; resumes when rerun',
    )
    .option(
      '--labels <kind>',
      'grabcut-r, recist (trimap, uncertain ignored) or full (ground-truth masks)',
      W.labels,
    )
    .option('--arch <name>', 'network: hnn or unet', W.net.arch)
    .option('--roi-size <px>', 'ROI working size in pixels (the CNN input)', String(W.stack.roiSize))
    .option(
      '--base-width <n>',
      'width of the first network stage (the default of run too)',
      String(W.net.baseWidth),
    )
    .option('--epochs <n>', 'maximum epochs (early stopping on a patient split)', String(F.maxEpochs))
    .option(
      '--samples-per-epoch <n>',
      'small cohorts: repeat the augmented set until an epoch has this many',
      String(F.minSamplesPerEpoch),
    )
    .option('--batch-size <n>', 'images per optimizer step', String(F.batchSize))
    .option(
      '--learning-rate <lr>',
      'initial Adam learning rate (x0.2 on a validation plateau)',
      String(F.learningRate),
    )
    .option('--seed <n>', 'seed of the init, patient split, shuffling and augmentation', String(W.seed))
    .option('--init <checkpoint>', 'start from these weights (a .pt file or a model folder)')
    .option('--train-splits <list>', 'train only on lesions of these manifest splits, e.g. train,val')
    .option(
      '--sr <dir>',
      'HNN-SR: a stacked GAN folder of `recist3d sr train`; the network also takes the denoised and enhanced image of the slice (segment then needs the same --sr)',
    )
    .option('--force', 'discard what --out holds and start over')
    .action(async (opts: TrainOpts) => {
      const options = trainOptionsFrom(opts);
      // A data-parallel job when the launcher's variables say so (docs/distributed.md); else one process.
      const job = await claimJobOut(opts.out, 'train', opts.force === true);
      await using outDir = job.outDir;
      const out = outDir.path;
      const records = await loadManifest(resolve(opts.manifest), { checkFiles: false });
      const progress = stageProgress();
      try {
        const r = await trainCnn(records, out, options, progress);
        r.net.dispose();
        for (const f of r.failures) {
          process.stderr.write(
            `recist3d: lesion ${f.record.lesionId} left out: ${f.error.code} ${f.error.message}\n`,
          );
        }
        for (const x of r.excluded)
          process.stderr.write(`recist3d: lesion ${x.lesionId} left out: ${x.code} ${x.message}\n`);
        const round = r.rounds[0];
        // a rank's stacks are its own lesions; the job trained on every rank's labels (one per lesion)
        const trained = job.group ? round.labels : r.stacks.length - r.excluded.length;
        process.stdout.write(
          `${round.resumed ? 'Model already trained' : 'Trained'} ${options.net?.arch ?? W.net.arch} on ${trained} lesions: ` +
            `${round.epochs} epochs, validation Dice ${round.bestValDice.toFixed(3)} (against the training labels), ` +
            `${(r.stageSeconds['train-r0'] ?? 0).toFixed(0)} s\n` +
            `Model: ${join(out, 'model.pt')} + model.json  Curve: ${join(out, 'training-curve.svg')}\n`,
        );
      } finally {
        progress.stop();
      }
    });
}
