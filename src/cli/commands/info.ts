import type { Command } from 'commander';
import { isRecist3dError } from '../../errors.js';
import { engineInfo, readDistEnv, type DistEnv } from '../../model/binding.js';

/** What `info` says about the distributed job named by the environment (it does not join it). */
function distributedInfo(): {
  backend: string;
  rank: number;
  worldSize: number;
  env?: DistEnv;
  error?: string;
} {
  try {
    const env = readDistEnv();
    if (!env || env.worldSize === 1) return { backend: 'none (single process)', rank: 0, worldSize: 1 };
    return {
      backend: 'gloo (c10d ProcessGroupGloo, TCPStore rendezvous)',
      rank: env.rank,
      worldSize: env.worldSize,
      env,
    };
  } catch (e) {
    if (!isRecist3dError(e)) throw e;
    return { backend: 'invalid environment', rank: 0, worldSize: 1, error: e.message };
  }
}

/** `recist3d info`: versions of libtorch and OpenCV, threads and device of the native engine, distributed job. */
export function registerInfo(program: Command): void {
  program
    .command('info')
    .description(
      'print the native engine versions, threads, device and distributed job (backend, rank, world size)',
    )
    .option('--json', 'print JSON instead of aligned text')
    .action((opts: { json?: boolean }) => {
      const info = engineInfo();
      const dist = distributedInfo();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...info, distributed: dist }, null, 2)}\n`);
        return;
      }
      const rows: [string, string][] = [
        ['libtorch', info.torchVersion],
        ['OpenCV', info.opencvVersion],
        ['threads', String(info.threads)],
        ['device', info.device],
        ['CUDA compiled in', info.cudaCompiled ? 'yes' : 'no'],
        ['CUDA available', info.cudaAvailable ? 'yes' : 'no'],
        ['distributed', dist.backend],
        ['rank', String(dist.rank)],
        ['world size', String(dist.worldSize)],
      ];
      if (dist.env) {
        rows.push(['local rank', String(dist.env.localRank)]);
        rows.push([
          'master',
          `${dist.env.masterAddr}:${dist.env.masterPort} (from ${dist.env.source} variables)`,
        ]);
      }
      if (dist.error) rows.push(['error', dist.error]);
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(17)} ${v}\n`);
    });
}
