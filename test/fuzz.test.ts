/**
 * Property-based fuzzing of the NIfTI reader, the manifest parser and the DL_info parser (issue 13), with a
 * fixed seed and a small budget so that `npm test` stays quick and deterministic. The long run is
 * `npm run fuzz -- --runs 100000` (scripts/fuzz.ts, docs/formats.md).
 */
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { dlInfoProperty, manifestProperty, niftiProperty } from './helpers/fuzz-properties.js';

const SEED = 13;
const dir = await mkdtemp(join(tmpdir(), 'recist3d-fuzz-'));
test.after(() => rm(dir, { recursive: true, force: true }));

test('fuzz: generated NIfTI files are read consistently or refused with an error naming the file', async () => {
  await fc.assert(niftiProperty(dir), { seed: SEED, numRuns: 200 });
});

test('fuzz: generated manifests load with every promise kept or are refused naming rows and fields', () => {
  fc.assert(manifestProperty(), { seed: SEED, numRuns: 500 });
});

test('fuzz: generated DL_info rows are parsed with every promise kept or reported with row and field', () => {
  fc.assert(dlInfoProperty(), { seed: SEED, numRuns: 200 });
});
