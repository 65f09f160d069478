import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStacks } from '../../src/steps/1-roi-stacks.js';
import { writeCohort } from '../../src/synth/write.js';
import { type LesionStack } from '../../src/types/stack.js';

/** Runs `fn` on the ROI stack of one seeded phantom lesion (no follow-up), in a temporary folder. */
export async function withPhantomStack(
  seed: number,
  fn: (s: LesionStack) => Promise<void> | void,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-stack-'));
  try {
    const cohort = await writeCohort(dir, { lesions: 1, seed, followUpFraction: 0 });
    const [res] = await buildStacks(cohort.records);
    assert.ok(res.ok, 'the phantom stack builds');
    await fn(res.stack);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
