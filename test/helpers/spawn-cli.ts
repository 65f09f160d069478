import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** The repository root, and the node arguments that run the CLI from its TypeScript sources. */
export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];

/** `recist3d <args>` in a child process (CI=true: log lines, no bars); its status, stdout and stderr. */
export function spawnCli(args: string[]) {
  return spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
  });
}
