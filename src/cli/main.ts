#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isRecist3dError } from '../errors.js';
import { numberOption } from './options.js';
import type { Register } from './register.js';

/**
 * Every subcommand, in help order, loaded on demand: a command imports only its own module tree, so
 * `recist3d serve` does not load the training pipeline (start-up time), while `--help` loads them all.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  info: async () => (await import('./commands/info.js')).registerInfo,
  'import-deeplesion': async () => (await import('./commands/import-deeplesion.js')).registerImportDeeplesion,
  'import-dicom': async () => (await import('./commands/import-dicom.js')).registerImportDicom,
  'export-dicom': async () => (await import('./commands/export-dicom.js')).registerExportDicom,
  'recist-from-masks': async () => (await import('./commands/recist-from-masks.js')).registerRecistFromMasks,
  masks: async () => (await import('./commands/masks.js')).registerMasks,
  eval: async () => (await import('./commands/eval.js')).registerEval,
  synth: async () => (await import('./commands/synth.js')).registerSynth,
  run: async () => (await import('./commands/run.js')).registerRun,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  track: async () => (await import('./commands/track.js')).registerTrack,
  train: async () => (await import('./commands/train.js')).registerTrain,
  segment: async () => (await import('./commands/segment.js')).registerSegment,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  study: async () => (await import('./commands/study.js')).registerStudy,
  sr: async () => (await import('./commands/sr.js')).registerSr,
};

/**
 * Builds the `recist3d` command tree. Each subcommand lives in src/cli/commands/<name>.ts; with `only`, just
 * that subcommand is loaded (the others are not needed to run it).
 */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('recist3d')
    .description('RECIST marks to 3D lesion masks and volumes (weakly supervised self-paced segmentation)')
    .option('--threads <n>', 'libtorch/OpenCV threads (default: all cores; env RECIST3D_THREADS)')
    .hook('preAction', (cmd) => {
      // checked here, before any command starts work (the engine reads the variable only when first used)
      const t = cmd.opts().threads as string | undefined;
      if (t !== undefined) process.env.RECIST3D_THREADS = String(numberOption(t, 'threads', 1, 4096, true));
      else if (process.env.RECIST3D_THREADS !== undefined && process.env.RECIST3D_THREADS !== '')
        numberOption(process.env.RECIST3D_THREADS, 'threads (from RECIST3D_THREADS)', 1, 4096, true);
    })
    .showHelpAfterError();
  const names = only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  for (const name of names) (await COMMANDS[name]())(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  // the first argument that names a command (option values such as `--threads 2` are not command names)
  const command = argv.slice(2).find((a) => a in COMMANDS);
  const program = (await buildProgram(command)).exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (isRecist3dError(e)) {
      process.stderr.write(`recist3d: error ${e.code}: ${e.message}\n`);
      if (process.env.RECIST3D_DEBUG) process.stderr.write(`${e.stack}\n`);
      process.exitCode = 1;
      return;
    }
    throw e;
  }
}

await main(process.argv);
