import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadManifest } from '../../src/io/manifest.js';
import { readNifti } from '../../src/io/nifti.js';

/**
 * Asserts that `segment`'s mask of every lesion of the manifest equals `run`'s on the RECIST slice (one
 * key-slice path) and that run's is not empty there.
 */
export async function assertSameKeySlices(runDir: string, segDir: string, manifest: string): Promise<void> {
  for (const rec of await loadManifest(manifest)) {
    const a = await readNifti(join(runDir, 'masks', `${rec.lesionId}.nii.gz`));
    const b = await readNifti(join(segDir, 'masks', `${rec.lesionId}.nii.gz`));
    const plane = a.size[0] * a.size[1];
    const k = rec.keySlice;
    const keyA = a.data.subarray(k * plane, (k + 1) * plane);
    assert.ok(
      keyA.some((v) => v > 0),
      `${rec.lesionId}: empty key slice`,
    );
    assert.deepEqual(keyA, b.data.subarray(k * plane, (k + 1) * plane), `key slice of ${rec.lesionId}`);
  }
}
