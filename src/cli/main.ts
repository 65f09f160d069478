#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { isRecist3dError } from '../errors.js';
import { numberOption } from './options.js';
import { registerInfo } from './commands/info.js';
import { registerImportDeeplesion } from './commands/import-deeplesion.js';
import { registerImportDicom } from './commands/import-dicom.js';
import { registerExportDicom } from './commands/export-dicom.js';
import { registerRecistFromMasks } from './commands/recist-from-masks.js';
import { registerMasks } from './commands/masks.js';
import { registerEval } from './commands/eval.js';
import { registerSynth } from './commands/synth.js';
import { registerRun } from './commands/run.js';
import { registerDemo } from './commands/demo.js';
import { registerTrack } from './commands/track.js';
import { registerTrain } from './commands/train.js';
import { registerSegment } from './commands/segment.js';
import { registerServe } from './commands/serve.js';
import { registerStudy } from './commands/study.js';

/** Builds the `recist3d` command tree. Each subcommand lives in src/cli/commands/<name>.ts. */
export function buildProgram(): Command {
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
  registerInfo(program);
  registerImportDeeplesion(program);
  registerImportDicom(program);
  registerExportDicom(program);
  registerRecistFromMasks(program);
  registerMasks(program);
  registerEval(program);
  registerSynth(program);
  registerRun(program);
  registerDemo(program);
  registerTrack(program);
  registerTrain(program);
  registerSegment(program);
  registerServe(program);
  registerStudy(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram().exitOverride();
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
