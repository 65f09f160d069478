/**
 * Masks left in an output folder by an earlier run: every `*.nii.gz` there that this run did not write (a
 * lesion no longer in the manifest, or one that failed this time and kept its old mask). Commands say so, and
 * `masks --force` removes them, so an `eval` of the folder never scores a mask the run did not make.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** File names of the `*.nii.gz` files in `dir` that are not in `written` (sorted; none when `dir` is absent). */
export async function staleMasks(dir: string, written: Iterable<string>): Promise<string[]> {
  const keep = new Set(written);
  const files = await readdir(dir).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.nii.gz') && !keep.has(f)).sort();
}

/** Removes the named files from `dir`. */
export async function removeMasks(dir: string, names: readonly string[]): Promise<void> {
  for (const f of names) await rm(join(dir, f), { force: true });
}

/** One line for the user about stale masks (at most 5 names), or '' when there are none. */
export function staleMasksNote(dir: string, names: readonly string[], remedy: string): string {
  if (names.length === 0) return '';
  const list = names.slice(0, 5).join(', ') + (names.length > 5 ? `, ... (${names.length - 5} more)` : '');
  return `recist3d: warning: ${names.length} mask file(s) in ${dir} were not written by this run (left by an earlier run): ${list}; ${remedy}\n`;
}
