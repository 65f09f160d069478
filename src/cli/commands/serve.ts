import { resolve } from 'node:path';
import type { Command } from 'commander';
import { SERVE_DEFAULTS } from '../../serve/options.js';
import { isLoopback } from '../../serve/security.js';
import { numberOption } from '../options.js';

interface ServeOpts {
  run: string;
  manifest?: string;
  port: string;
  host: string;
  token?: string;
  cacheMb: string;
}

/** `recist3d serve --run DIR`: the web viewer and the reader studies of a finished run. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'web viewer of a finished run (cohort list, lesion slices with masks) and the two reader studies',
    )
    .requiredOption('--run <dir>', 'a finished run folder (recist3d run --out)')
    .option('--manifest <csv>', 'the manifest of the run (default: the one recorded in metrics.json)')
    .option('--port <n>', 'TCP port (0 = any free port)', String(SERVE_DEFAULTS.port))
    .option(
      '--host <addr>',
      'address to bind; any non-loopback address requires the printed token',
      SERVE_DEFAULTS.host,
    )
    .option('--token <t>', 'access token (default: random on a non-loopback address, none on loopback)')
    .option('--cache-mb <n>', 'decoded images and masks kept in memory (MiB)', String(SERVE_DEFAULTS.cacheMb))
    .action(async (opts: ServeOpts) => {
      const t0 = performance.now();
      // fastify and SQLite load only when serving, not with every recist3d command
      const { startServer } = await import('../../serve/server.js');
      const server = await startServer(resolve(opts.run), {
        ...(opts.manifest ? { manifest: opts.manifest } : {}),
        host: opts.host,
        port: numberOption(opts.port, 'port', 0, 65535, true),
        ...(opts.token ? { token: opts.token } : {}),
        cacheMb: numberOption(opts.cacheMb, 'cache-mb', 16),
      });
      const i = server.index;
      if (!i.info.hasManifest)
        process.stderr.write(
          '[serve] warning: this run does not record its manifest (runs before metrics.json had "manifest"); ' +
            'pass --manifest to see images and the studies\n',
        );
      process.stderr.write(
        `[serve] ${i.info.lesions} lesions of ${i.runDir}` +
          (i.manifestPath ? ` (manifest ${i.manifestPath})` : '') +
          `, answers in ${resolve(i.runDir, 'study.sqlite')}; ready in ${((performance.now() - t0) / 1000).toFixed(2)} s\n`,
      );
      if (!isLoopback(opts.host))
        process.stderr.write(
          `[serve] listening on ${opts.host}: open the URL with its token; anyone with it can read the images\n`,
        );
      process.stdout.write(`${server.url}\n`);
      const stop = () => {
        void server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
