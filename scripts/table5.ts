/**
 * Reproduces paper Table 5 and Figures 4/5 on a manifest (see docs/results-3d.md):
 *   node --import tsx scripts/table5.ts --manifest M --out DIR [--rounds 3] [--gc] [--title LIDC] [run options]
 * Takes the same options as `recist3d run` (architecture, ROI, epochs, seed, --recist-prior, --pad).
 */
import { Command } from 'commander';
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';
import { runExperiment3d } from '../src/experiments/table5.js';
import { stageProgress } from '../src/cli/stage-progress.js';
import { addRunOptions, RUN_COMMAND_DEFAULTS, runOptionsFrom } from '../src/cli/commands/run.js';

const program = addRunOptions(
  new Command('table5')
    .requiredOption('--manifest <csv>', 'manifest with ground-truth masks')
    .requiredOption('--out <dir>', 'output folder')
    .option('--title <s>', 'title prefix', ''),
  { ...RUN_COMMAND_DEFAULTS, rounds: 3 },
);
program.parse();
const o = program.opts();
const out = resolve(o.out);
const progress = stageProgress();
const options = runOptionsFrom(o as Parameters<typeof runOptionsFrom>[0]);
const rows = await runExperiment3d(
  resolve(o.manifest),
  out,
  { ...options, withGc: o.gc === true, title: o.title },
  progress,
);
progress.stop();
process.stdout.write(await readFile(resolve(out, 'table5.md'), 'utf8'));
process.stdout.write(
  `\n${rows.length} methods scored; figures in ${out}/dice-by-offset.svg and ${out}/pr-3d.svg\n`,
);
