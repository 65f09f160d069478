/**
 * track with bad predictions (issue 13 item 14): a truncated or missing prediction fails its pair only, the
 * other pairs are measured and track.csv lists every pair; without patient_id or study_date it says why
 * there are no pairs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTrack } from '../src/cli/commands/track.js';
import { writeManifest } from '../src/io/manifest.js';
import { writeNifti } from '../src/io/nifti.js';
import { maskFileName } from '../src/io/mask-file-name.js';
import type { LesionRecord } from '../src/types/recist.js';
import type { Vec3 } from '../src/types/volume.js';
import { runCliWithStderr } from './helpers/cli.js';
import { plainVolume } from './helpers/nifti-bytes.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-track-hostile-'));
test.after(() => rm(dir, { recursive: true, force: true }));
const size: Vec3 = [24, 24, 4];

/** A cube mask of side `s` voxels, and an image, written for lesion `id`; returns its record. */
async function lesion(id: string, patientId: string, date: string, s: number): Promise<LesionRecord> {
  const mask = new Uint8Array(24 * 24 * 4);
  for (let k = 0; k < 3; k++)
    for (let j = 4; j < 4 + s; j++) for (let i = 4; i < 4 + s; i++) mask[i + 24 * (j + 24 * k)] = 1;
  const imagePath = join(dir, 'img', `${id}.nii.gz`);
  const maskPath = join(dir, 'truth', `${id}.nii.gz`);
  await writeNifti(imagePath, plainVolume(new Int16Array(mask.length), size));
  await writeNifti(maskPath, plainVolume(mask, size));
  const c = 4 + s / 2;
  return {
    lesionId: id,
    imagePath,
    maskPath,
    keySlice: 1,
    recist: {
      long: [
        [4, c],
        [4 + s, c],
      ],
      short: [
        [c, 5],
        [c, 3 + s],
      ],
    },
    category: 'liver',
    patientId,
    studyDate: date,
    row: 0,
  };
}

test('a truncated and a missing prediction fail their pairs only; track.csv lists all three pairs', async () => {
  const recs = [
    await lesion('P1_L1_t0', 'P1', '20200101', 6),
    await lesion('P1_L1_t1', 'P1', '20200601', 8),
    await lesion('P2_L1_t0', 'P2', '20200101', 6),
    await lesion('P2_L1_t1', 'P2', '20200601', 4),
    await lesion('P3_L1_t0', 'P3', '20200101', 5),
    await lesion('P3_L1_t1', 'P3', '20200601', 7),
  ].map((r, q) => ({ ...r, row: q + 2 }));
  const manifest = join(dir, 'manifest.csv');
  await writeManifest(manifest, recs);
  // the truth masks are the predictions, except: P2's follow-up truncated, P3's baseline missing
  const pred = join(dir, 'pred');
  await mkdir(pred);
  for (const r of recs) {
    if (r.lesionId === 'P3_L1_t0') continue;
    const bytes = await readFile(r.maskPath!);
    await writeFile(
      join(pred, maskFileName(r.lesionId)),
      r.lesionId === 'P2_L1_t1' ? bytes.subarray(0, 60) : bytes,
    );
  }
  const r = await runCliWithStderr(registerTrack, ['track', '--manifest', manifest, '--pred', pred]);
  assert.match(r.stdout, /1 follow-up pair\(s\), 2 failed, 0 unpaired lesion\(s\)/);
  assert.match(r.stderr, /pair P2_L1_t0 -> P2_L1_t1 failed: E_NIFTI_TRUNCATED .*lesion P2_L1_t1/);
  assert.match(
    r.stderr,
    /pair P3_L1_t0 -> P3_L1_t1 failed: E_FILE_NOT_FOUND No predicted mask P3_L1_t0\.nii\.gz/,
  );
  const csv = (await readFile(join(pred, 'track.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length, 4);
  assert.match(csv[0], /,status,error$/);
  const ok = csv.find((l) => l.startsWith('P1,'))!;
  // 6x6x3 -> 8x8x3 voxels: +77.8 %, from the masks themselves
  assert.match(ok, /,77\.8,[-\d.]+,77\.8,ok,$/);
  assert.match(
    csv.find((l) => l.startsWith('P2,'))!,
    /,failed,"?E_NIFTI_TRUNCATED: /,
  );
  assert.match(
    csv.find((l) => l.startsWith('P3,'))!,
    /,failed,"?E_FILE_NOT_FOUND: /,
  );
});

test('without patient_id or study_date track says why there are no pairs', async () => {
  const recs = [await lesion('A_t0', 'A', '20200101', 5), await lesion('A_t1', 'A', '20200301', 6)];
  const manifest = join(dir, 'no-dates.csv');
  await writeManifest(
    manifest,
    recs.map(({ studyDate: _d, ...x }, q) => ({ ...x, row: q + 2 })),
  );
  const pred = join(dir, 'pred2');
  await mkdir(pred);
  const r = await runCliWithStderr(registerTrack, ['track', '--manifest', manifest, '--pred', pred]);
  assert.match(r.stdout, /0 follow-up pair\(s\), 0 failed, 2 unpaired lesion\(s\)/);
  assert.match(
    r.stdout,
    /No pairs: pairing needs patient_id and study_date on each row \(0 lesion\(s\) have no patient_id, 2 no study_date\)/,
  );
});
