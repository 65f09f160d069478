import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real development data lives outside the repository in ../shared/data (never copied in).
 * Tests that need it call `sharedData('lidc')` and skip with `SKIP_REASON` when it returns undefined.
 * RECIST3D_SHARED_DATA overrides the location.
 */
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED_DATA_DIR = process.env.RECIST3D_SHARED_DATA ?? resolve(repoRoot, '..', 'shared', 'data');

export function sharedData(...parts: string[]): string | undefined {
  const p = resolve(SHARED_DATA_DIR, ...parts);
  return existsSync(p) ? p : undefined;
}

export function skipReason(...parts: string[]): string {
  return `real data not found at ${resolve(SHARED_DATA_DIR, ...parts)} (set RECIST3D_SHARED_DATA to run this test)`;
}
