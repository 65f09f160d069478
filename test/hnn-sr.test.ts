/**
 * HNN-SR end to end (`--sr`, docs/sr.md): `run --sr` on a tiny phantom cohort with a tiny stacked GAN writes
 * masks and a sidecar recording the SR channels, and a rerun reuses the SR images it cached; `segment` needs
 * exactly the SR models the network was trained with (a clear E_CONFIG naming the sidecar and the field
 * otherwise) and then gives run's RECIST-slice masks; a rerun without --sr on the same folder recomputes from
 * the first stage instead of mixing SR and non-SR artifacts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadManifest } from '../src/io/manifest.js';
import { readSidecar } from '../src/model/checkpoint.js';
import { readStageSidecar } from '../src/sr/model-files.js';
import { writeCohort } from '../src/synth/write.js';
import { assertSameKeySlices } from './helpers/key-slices.js';
import { spawnCli } from './helpers/spawn-cli.js';
import { trainTinySr } from './helpers/sr-scenes.js';

// tiny but real: 32 px ROIs, a narrow net, two epochs, one self-paced round
const FAST = [
  '--rounds',
  '1',
  '--epochs',
  '2',
  '--fine-tune-epochs',
  '1',
  '--roi-size',
  '32',
  '--base-width',
  '8',
  '--arch',
  'unet',
  '--no-report',
];

let dir: string;
let manifest: string;
let sr: string;
let otherSr: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recist3d-hnnsr-'));
  manifest = (await writeCohort(join(dir, 'cohort'), { lesions: 3, seed: 3 })).manifestPath;
  sr = join(dir, 'sr');
  otherSr = join(dir, 'sr-other');
  await trainTinySr(sr, 7);
  await trainTinySr(otherSr, 8);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const runCli = spawnCli;

test('run --sr: masks, an SR stage, input.sr in the sidecar; segment needs the same --sr; a rerun without --sr recomputes, and that model refuses --sr', async () => {
  const out = join(dir, 'run');
  const r = runCli(['run', '--manifest', manifest, '--out', out, '--sr', sr, ...FAST]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /\[sr\] finished in/, 'the SR images are a stage of their own');
  const records = await loadManifest(manifest);
  assert.equal((await readdir(join(out, 'masks'))).length, records.length);
  // the sidecar records the layout explicitly: one image channel + denoised + enhanced, and which G1/G2
  const side = await readSidecar(join(out, 'model'));
  assert.equal(side.net.inChannels, 3);
  assert.deepEqual(side.input.sr, {
    g1Sha256: (await readStageSidecar(sr, 'g1'))!.weights.sha256,
    g2Sha256: (await readStageSidecar(sr, 'g2'))!.weights.sha256,
    channels: ['denoised', 'enhanced'],
  });
  assert.equal(side.input.context, 0);
  assert.equal(side.input.prior, 'none');
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as { sr: unknown };
  assert.deepEqual(metrics.sr, side.input.sr);

  // a rerun with the same --sr reuses every stage and the SR images cached in work/, with the same masks
  const masks = async () =>
    Promise.all(records.map((rec) => readFile(join(out, 'masks', `${rec.lesionId}.nii.gz`))));
  const first = await masks();
  const cache = join(out, 'work', 'sr-images.bin');
  const reuse = runCli(['run', '--manifest', manifest, '--out', out, '--sr', sr, ...FAST]);
  assert.equal(reuse.status, 0, reuse.stderr);
  assert.ok(reuse.stderr.includes(`SR images of an earlier run, same models and stacks, reused (${cache})`));
  assert.doesNotMatch(reuse.stderr, /runs again|\[sr\] finished/);
  assert.deepEqual(await masks(), first);
  // a damaged cache is computed again, not read
  await truncate(cache, 100);
  const damaged = runCli(['run', '--manifest', manifest, '--out', out, '--sr', sr, ...FAST]);
  assert.equal(damaged.status, 0, damaged.stderr);
  assert.match(damaged.stderr, /\[sr\] finished in/);
  assert.deepEqual(await masks(), first);

  // segment: without --sr, or with other SR models, a clear error naming the sidecar and the field
  const sidecarFile = join(out, 'model.json');
  const segment = (name: string, ...extra: string[]) =>
    runCli(['segment', '--model', out, '--manifest', manifest, '--out', join(dir, name), ...extra]);
  const none = segment('seg-none');
  assert.equal(none.status, 1);
  assert.ok(none.stderr.includes('E_CONFIG'), none.stderr);
  assert.ok(none.stderr.includes(`input.sr in ${sidecarFile}`), none.stderr);
  assert.match(none.stderr, /pass --sr DIR/);
  const other = segment('seg-other', '--sr', otherSr);
  assert.equal(other.status, 1);
  assert.match(
    other.stderr,
    /E_CONFIG: --sr .*sr-other: its g1\.pt .* is not the G1 the model was trained with/,
  );
  assert.ok(other.stderr.includes(`field input.sr.g1Sha256, ${sidecarFile}`), other.stderr);

  // with the same --sr: the RECIST-slice masks of run (one key-slice path, SR channels computed alike)
  const ok = segment('seg', '--sr', sr);
  assert.equal(ok.status, 0, ok.stderr);
  await assertSameKeySlices(out, join(dir, 'seg'), manifest);

  // the same folder without --sr: every stage runs again (the SR models are in the stage keys), none is mixed
  const again = runCli(['run', '--manifest', manifest, '--out', out, ...FAST]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /\[labels-r0\] runs again: sr \{"g1Sha256":"[0-9a-f]{64}".* -> unset/);
  assert.doesNotMatch(again.stderr, /reused/);
  const plain = await readSidecar(join(out, 'model'));
  assert.equal(plain.net.inChannels, 1);
  assert.equal(plain.input.sr, null);
  // and a model without SR channels refuses --sr
  const refused = segment('seg-plain', '--sr', sr);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /E_CONFIG: --sr .* was given but the model takes no SR channels/);
  assert.ok(refused.stderr.includes(`field input.sr, ${sidecarFile}`), refused.stderr);
});
