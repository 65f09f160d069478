import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gitRevision, packageVersion } from '../util/provenance.js';

/**
 * Artifacts are written atomically (temp file + rename), so a run killed at any moment leaves either the
 * previous file or the complete new one, never a torn file. A stage is done when its "done" marker exists.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
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

export interface StageMarker {
  stage: string;
  finishedAt: string;
  /** Hash-like key of the options the stage ran with; a different key means the stage must rerun. */
  key: string;
  info: Record<string, unknown>;
}

/** A StageMarker key: the first 16 hex digits of the SHA-1 of `value` as JSON (key order counts). */
export function stageKey(value: unknown): string {
  return createHash('sha1').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** True when `dir/.done-<stage>.json` exists with the same key. */
export async function stageDone(markerPath: string, key: string): Promise<boolean> {
  if (!(await exists(markerPath))) return false;
  try {
    const m = await readJson<StageMarker>(markerPath);
    return m.key === key;
  } catch {
    return false;
  }
}

export async function markStageDone(
  markerPath: string,
  stage: string,
  key: string,
  info: Record<string, unknown> = {},
): Promise<void> {
  await writeJsonAtomic(markerPath, {
    stage,
    finishedAt: new Date().toISOString(),
    key,
    info,
  } satisfies StageMarker);
}

export async function removeIfExists(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}
