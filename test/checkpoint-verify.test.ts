/**
 * A damaged checkpoint is refused (issue 13 item 5): with half of a tensor overwritten, libtorch's loader
 * does not notice (it skips the zip CRCs) and `segment` used to exit 0 with empty masks. The SHA-256 recorded
 * in the sidecar and the zip CRCs are now checked before any load.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRecist3dError } from '../src/errors.js';
import { registerSegment } from '../src/cli/commands/segment.js';
import { SegNet } from '../src/model/binding.js';
import { loadCheckpoint, readSidecar, saveCheckpoint } from '../src/model/checkpoint.js';
import { zipProblem } from '../src/util/zip-verify.js';
import { runCliWithStderr } from './helpers/cli.js';
import { makeTinyCohort } from './helpers/tiny-cohort.js';
import { PLAIN_INPUT } from './helpers/checkpoint-input.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-ckpt-'));
test.after(() => rm(dir, { recursive: true, force: true }));

/** [start, end) of the largest stored entry's data in a zip (read from the local headers). */
function largestEntry(zip: Buffer): [number, number] {
  let best: [number, number] = [0, 0];
  for (let p = zip.indexOf('PK\x03\x04'); p >= 0; p = zip.indexOf('PK\x03\x04', p + 4)) {
    const nameLen = zip.readUInt16LE(p + 26);
    const extraLen = zip.readUInt16LE(p + 28);
    const start = p + 30 + nameLen + extraLen;
    const next = zip.indexOf('PK', start);
    const end = next < 0 ? zip.length : next;
    if (end - start > best[1] - best[0]) best = [start, end];
  }
  return best;
}

const base = join(dir, 'model', 'model');
await mkdir(join(dir, 'model'));
const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: 32, baseWidth: 4, depth: 3, seed: 1 });
await saveCheckpoint(net, base, {
  input: PLAIN_INPUT,
});
net.dispose();
const good = await readFile(`${base}.pt`);

test('the sidecar records the weights hash and a good checkpoint loads', async () => {
  const side = await readSidecar(base);
  assert.equal(side.weights?.bytes, good.length);
  assert.match(side.weights?.sha256 ?? '', /^[0-9a-f]{64}$/);
  assert.equal(zipProblem(good), undefined);
  const { net: back } = await loadCheckpoint(base);
  back.dispose();
});

test('half of a tensor overwritten: E_CHECKPOINT naming the file, with or without the recorded hash', async () => {
  const [start, end] = largestEntry(good);
  assert.ok(end - start > 1000, 'a real tensor entry was found');
  const bad = Buffer.from(good);
  bad.fill(0x41, start + ((end - start) >> 1), end);
  await writeFile(`${base}.pt`, bad);
  try {
    await assert.rejects(loadCheckpoint(base), (e) => {
      assert.ok(isRecist3dError(e, 'E_CHECKPOINT'), String(e));
      assert.match(e.message, /differ from what was saved/);
      assert.equal(e.context.file, `${base}.pt`);
      return true;
    });
    // a sidecar of an older version has no hash: the zip CRC still catches it
    const side = JSON.parse(await readFile(`${base}.json`, 'utf8'));
    delete side.weights;
    await writeFile(`${base}.json`, JSON.stringify(side));
    await assert.rejects(loadCheckpoint(base), (e) => {
      assert.ok(isRecist3dError(e, 'E_CHECKPOINT'), String(e));
      assert.match(e.message, /CRC-32 mismatch/);
      return true;
    });
    // and a truncated file
    await writeFile(`${base}.pt`, good.subarray(0, good.length - 200));
    await assert.rejects(
      loadCheckpoint(base),
      (e) => isRecist3dError(e, 'E_CHECKPOINT') && /truncated/.test(e.message),
    );
  } finally {
    await writeFile(`${base}.pt`, good);
  }
});

test('segment with a damaged model stops before any lesion with E_CHECKPOINT (it used to write empty masks)', async () => {
  const cohort = await makeTinyCohort(join(dir, 'cohort'));
  const bad = Buffer.from(good);
  const [start, end] = largestEntry(good);
  bad.fill(0, start, start + ((end - start) >> 1));
  const modelDir = join(dir, 'bad-model');
  await mkdir(modelDir);
  await writeFile(join(modelDir, 'model.pt'), bad);
  await writeFile(join(modelDir, 'model.json'), await readFile(`${base}.json`));
  const out = join(dir, 'seg');
  await assert.rejects(
    runCliWithStderr(registerSegment, [
      'segment',
      '--model',
      modelDir,
      '--manifest',
      cohort.manifest,
      '--out',
      out,
    ]),
    (e) => isRecist3dError(e, 'E_CHECKPOINT') && e.context.file === join(modelDir, 'model.pt'),
  );
  assert.equal(existsSync(join(out, 'masks')), false, 'no masks were written');
});
