/**
 * Reproduces paper Table 5 and Figures 4/5 on a manifest (see docs/results-3d.md):
 *   node --import tsx scripts/table5.ts --manifest M --out DIR [--rounds 3] [--gc] [--title LIDC] [--arch hnn]
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { runExperiment3d } from '../src/pipeline/experiment3d.js';
import { stageProgress } from '../src/cli/stage-progress.js';
import { choiceOption, numberOption } from '../src/cli/options.js';

const program = new Command('table5')
  .requiredOption('--manifest <csv>', 'manifest with ground-truth masks')
  .requiredOption('--out <dir>', 'output folder')
  .option('--rounds <k>', 'self-paced rounds (3 = up to WSSS-7)', '3')
  .option('--arch <name>', 'hnn or unet', 'hnn')
  .option('--roi-size <px>', 'ROI size', '64')
  .option('--epochs <n>', 'round-0 epochs', '40')
  .option('--fine-tune-epochs <n>', 'epochs per self-paced round', '12')
  .option('--seed <n>', 'seed', '0')
  .option('--gc', 'also score every CNN row with CNN-GC')
  .option('--pad <mode>', 'constant or reflect', 'constant')
  .option('--recist-prior', 'second input channel with the estimated RECIST ellipse')
  .option('--title <s>', 'title prefix', '')
  .parse();
const o = program.opts();
const out = resolve(o.out);
const progress = stageProgress();
const rows = await runExperiment3d(
  resolve(o.manifest),
  out,
  {
    rounds: numberOption(o.rounds, 'rounds', 0, 4, true),
    net: {
      arch: choiceOption(o.arch, 'arch', ['hnn', 'unet'] as const),
      recistPrior: o.recistPrior === true,
    },
    stack: {
      roiSize: numberOption(o.roiSize, 'roi-size', 16, 512, true),
      padMode: choiceOption(o.pad, 'pad', ['constant', 'reflect'] as const),
    },
    fit: { maxEpochs: numberOption(o.epochs, 'epochs', 1, 1000, true) },
    fineTune: {
      maxEpochs: numberOption(o.fineTuneEpochs, 'fine-tune-epochs', 1, 1000, true),
      learningRate: 3e-4,
      minEpochs: 3,
      stopPatience: 4,
      lrPatience: 3,
    },
    seed: numberOption(o.seed, 'seed', 0, 2 ** 31, true),
    withGc: o.gc === true,
    title: o.title,
  },
  progress,
);
progress.stop();
process.stdout.write(await readFile(resolve(out, 'table5.md'), 'utf8'));
process.stdout.write(
  `\n${rows.length} methods scored; figures in ${out}/dice-by-offset.svg and ${out}/pr-3d.svg\n`,
);
