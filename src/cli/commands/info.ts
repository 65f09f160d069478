import type { Command } from 'commander';
import { engineInfo } from '../../model/binding.js';

/** `recist3d info`: versions of libtorch and OpenCV, threads and device of the native engine. */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print the native engine versions, threads and device')
    .option('--json', 'print JSON instead of aligned text')
    .action((opts: { json?: boolean }) => {
      const info = engineInfo();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['libtorch', info.torchVersion],
        ['OpenCV', info.opencvVersion],
        ['threads', String(info.threads)],
        ['device', info.device],
        ['CUDA compiled in', info.cudaCompiled ? 'yes' : 'no'],
        ['CUDA available', info.cudaAvailable ? 'yes' : 'no'],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(17)} ${v}\n`);
    });
}
