/**
 * Bad option values and bad files behind options give errors that name the option and the file (issue 13
 * item 15): recist-from-masks --patient-regex '(' and synth --shape-library with a truncated mask.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isRecist3dError } from '../src/errors.js';
import { registerRecistFromMasks } from '../src/cli/commands/recist-from-masks.js';
import { registerSynth } from '../src/cli/commands/synth.js';
import { CATEGORY_SHAPE_KINDS } from '../src/synth/library.js';
import { runCliWithStderr } from './helpers/cli.js';
import { niftiBytes, plainVolume } from './helpers/nifti-bytes.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-cli-inputs-'));
test.after(() => rm(dir, { recursive: true, force: true }));

test("recist-from-masks --patient-regex '(' is E_USAGE naming the option, before any file is read", async () => {
  const out = join(dir, 'rfm', 'm.csv');
  await assert.rejects(
    runCliWithStderr(registerRecistFromMasks, [
      'recist-from-masks',
      '--images',
      join(dir, 'no-images'),
      '--masks',
      join(dir, 'no-masks'),
      '--out',
      out,
      '--patient-regex',
      '(',
    ]),
    (e) => {
      assert.ok(isRecist3dError(e, 'E_USAGE'), String(e));
      assert.match(e.message, /--patient-regex is not a valid regular expression: .*Unterminated group/);
      assert.equal(e.context.field, '--patient-regex');
      return true;
    },
  );
  assert.equal(existsSync(out), false);
});

test('synth --shape-library with a truncated mask is E_NIFTI_TRUNCATED naming the file and the option', async () => {
  const lib = join(dir, 'shapes');
  const mask = new Uint8Array(8 * 8 * 6);
  for (let k = 1; k < 5; k++)
    for (let j = 2; j < 6; j++) for (let i = 2; i < 6; i++) mask[i + 8 * (j + 8 * k)] = 1;
  const whole = gzipSync(niftiBytes(plainVolume(mask, [8, 8, 6])));
  const cut = whole.subarray(0, whole.length - 20);
  const kinds = new Set(Object.values(CATEGORY_SHAPE_KINDS).flat());
  for (const kind of kinds) {
    await mkdir(join(lib, kind), { recursive: true });
    await writeFile(join(lib, kind, 'cut.nii.gz'), cut);
  }
  const out = join(dir, 'synth');
  await assert.rejects(
    runCliWithStderr(registerSynth, [
      'synth',
      '--out',
      out,
      '--lesions',
      '2',
      '--shape-library',
      lib,
      '--shape-fraction',
      '1',
    ]),
    (e) => {
      assert.ok(isRecist3dError(e, 'E_NIFTI_TRUNCATED'), String(e));
      assert.match(e.message, /lesion shape is truncated/);
      assert.match(String(e.context.file), /shapes\/.*\/cut\.nii\.gz$/);
      assert.equal(e.context.field, '--shape-library');
      return true;
    },
  );
});
