/**
 * The long fuzz run of the input readers (the same properties as test/fuzz.test.ts, with a bigger budget):
 *
 *   npm run fuzz -- --runs 100000                 # all three readers, a new random seed (printed)
 *   npm run fuzz -- --runs 20000 --seed 13 --only nifti
 *
 * Options: --runs N (per reader, default 10000), --seed S (default: random), --only nifti|manifest|dlinfo.
 * A failure prints fast-check's shrunk counterexample and the seed and path to replay it; exit status 1.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { dlInfoProperty, manifestProperty, niftiProperty } from '../test/helpers/fuzz-properties.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '10000' }, seed: { type: 'string' }, only: { type: 'string' } },
});
const runs = Number(values.runs);
if (!(Number.isInteger(runs) && runs > 0))
  throw new Error(`--runs must be a positive integer, got ${values.runs}`);
const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const readers = ['nifti', 'manifest', 'dlinfo'];
const only = values.only ? values.only.split(',') : readers;
for (const r of only)
  if (!readers.includes(r)) throw new Error(`--only: unknown reader ${r} (${readers.join(', ')})`);

const dir = await mkdtemp(join(tmpdir(), 'recist3d-fuzz-'));
let failed = false;
try {
  for (const reader of only) {
    const t0 = performance.now();
    process.stdout.write(`fuzz ${reader}: ${runs} runs, seed ${seed} ... `);
    const property =
      reader === 'nifti' ? niftiProperty(dir) : reader === 'manifest' ? manifestProperty() : dlInfoProperty();
    const details = await fc.check(property as fc.IAsyncProperty<unknown>, { seed, numRuns: runs });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (details.failed) {
      failed = true;
      process.stdout.write(
        `FAILED after ${details.numRuns} runs (${secs} s)\n${fc.defaultReportMessage(details)}\n`,
      );
    } else process.stdout.write(`ok (${secs} s)\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
