import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cachedRevision: string | undefined;

/** The git revision of the recist3d checkout (with "-dirty" when it has local changes), or "unknown". */
export function gitRevision(): string {
  if (cachedRevision !== undefined) return cachedRevision;
  try {
    const rev = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
    cachedRevision = dirty ? `${rev}-dirty` : rev;
  } catch {
    cachedRevision = 'unknown';
  }
  return cachedRevision;
}

/** The recist3d package version. */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** Provenance recorded in every artifact sidecar (house rule 8). */
export function provenance(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    recist3d: packageVersion(),
    gitRevision: gitRevision(),
    node: process.version,
    createdAt: new Date().toISOString(),
    ...extra,
  };
}
