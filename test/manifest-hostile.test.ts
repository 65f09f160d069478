/**
 * The manifest loader against the bad manifests found by fuzzing (issue 13): colliding and huge lesion ids,
 * other encodings than UTF-8, RECIST axes given short first or not crossing, and paths that are not files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRecist3dError } from '../src/errors.js';
import { loadManifest, ManifestError, type ManifestIssue } from '../src/io/manifest.js';
import { writeNifti } from '../src/io/nifti.js';
import { plainVolume } from './helpers/nifti-bytes.js';

const dir = await mkdtemp(join(tmpdir(), 'recist3d-manifest-hostile-'));
test.after(() => rm(dir, { recursive: true, force: true }));
await mkdir(join(dir, 'img'));
await writeNifti(join(dir, 'img', 'a.nii.gz'), plainVolume(new Int16Array(40 * 36 * 5), [40, 36, 5]));

const HEADER = 'lesion_id,image,key_slice,recist,category';
const GOOD = '"11,17,25,17,18,10,18,24"';

async function manifest(name: string, lines: string[]): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, [HEADER, ...lines, ''].join('\n'));
  return p;
}

/** The ManifestError of loading `p` (fails the test when it loads). */
async function problems(p: string, checkImages = false): Promise<ManifestIssue[]> {
  try {
    await loadManifest(p, { checkImages, onWarnings: () => {} });
  } catch (e) {
    assert.ok(e instanceof ManifestError, String(e));
    assert.equal(e.code, 'E_MANIFEST_INVALID');
    assert.equal(e.context.file, p);
    return e.issues;
  }
  assert.fail(`${p} loaded`);
}

test('lesion ids that give the same mask file name are refused, naming both rows', async () => {
  const p = await manifest('clash.csv', [
    `a/1,img/a.nii.gz,2,${GOOD},liver`,
    `ok,img/a.nii.gz,2,${GOOD},liver`,
    `a_1,img/a.nii.gz,2,${GOOD},liver`,
  ]);
  const issues = await problems(p);
  assert.equal(issues.length, 1);
  assert.equal(issues[0].row, 4);
  assert.equal(issues[0].field, 'lesion_id');
  assert.match(issues[0].reason, /"a_1" and "a\/1" \(row 2\) both give the mask file name a_1\.nii\.gz/);
});

test('a 5 MB lesion id is refused at validation with a short message naming row and field', async () => {
  const huge = 'x'.repeat(5 * 1024 * 1024);
  const p = await manifest('huge-id.csv', [
    `ok,img/a.nii.gz,2,${GOOD},liver`,
    `${huge},img/a.nii.gz,2,${GOOD},liver`,
  ]);
  try {
    await loadManifest(p);
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof ManifestError);
    assert.deepEqual(
      e.issues.map((i) => [i.row, i.field]),
      [[3, 'lesion_id']],
    );
    assert.match(e.message, /longer than 200 characters/);
    assert.match(e.message, /5242880 characters/);
    assert.ok(e.message.length < 1000, `message of ${e.message.length} characters`);
  }
});

test('UTF-16 manifests with a byte-order mark load like UTF-8; other encodings are named in the error', async () => {
  const text = [HEADER, `L1,img/a.nii.gz,2,${GOOD},liver`, `Lé2,img/a.nii.gz,3,${GOOD},lung`, ''].join(
    '\r\n',
  );
  const utf8 = join(dir, 'utf8.csv');
  await writeFile(utf8, '\ufeff' + text);
  const want = await loadManifest(utf8);
  assert.equal(want[1].lesionId, 'Lé2');
  const le = join(dir, 'utf16le.csv');
  await writeFile(le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
  assert.deepEqual(await loadManifest(le), want);
  const be = join(dir, 'utf16be.csv');
  await writeFile(be, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]));
  assert.deepEqual(await loadManifest(be), want);

  const noBom = join(dir, 'utf16-nobom.csv');
  await writeFile(noBom, Buffer.from(text, 'utf16le'));
  await assert.rejects(loadManifest(noBom), (e) => {
    assert.ok(isRecist3dError(e, 'E_CSV_PARSE'), String(e));
    assert.match(e.message, /UTF-16 without a byte-order mark/);
    assert.equal(e.context.file, noBom);
    return true;
  });
  const latin1 = join(dir, 'latin1.csv');
  await writeFile(latin1, Buffer.from(text, 'latin1'));
  await assert.rejects(loadManifest(latin1), (e) => {
    assert.ok(isRecist3dError(e, 'E_CSV_PARSE'), String(e));
    assert.match(e.message, /not UTF-8 \(line 3 /);
    return true;
  });
});

test('RECIST axes given short first are swapped with a warning naming the row and field', async () => {
  const p = await manifest('swapped.csv', [
    `ok,img/a.nii.gz,2,${GOOD},liver`,
    'swapped,img/a.nii.gz,2,"18,10,18,20,11,17,25,17",liver',
  ]);
  let warned: ManifestIssue[] = [];
  const recs = await loadManifest(p, { onWarnings: (_f, w) => (warned = w) });
  assert.deepEqual(recs[1].recist, {
    long: [
      [11, 17],
      [25, 17],
    ],
    short: [
      [18, 10],
      [18, 20],
    ],
  });
  assert.deepEqual(recs[0].recist.long, recs[1].recist.long, 'the good row is unchanged');
  assert.equal(warned.length, 1);
  assert.deepEqual([warned[0].row, warned[0].field], [3, 'recist']);
  assert.match(warned[0].reason, /short axis \(14\.0 px\) was longer than the long axis \(10\.0 px\)/);
});

test('RECIST axes that do not cross are refused per row when images are checked', async () => {
  // the short axis moved 20 px along the long one's line: it now misses the long axis by 13 px
  const p = await manifest('no-cross.csv', [
    `ok,img/a.nii.gz,2,${GOOD},liver`,
    'off,img/a.nii.gz,2,"11,17,25,17,38,10,38,24",liver',
  ]);
  assert.equal((await loadManifest(p)).length, 2, 'the pixel-level checks pass without the image');
  const issues = await problems(p, true);
  assert.deepEqual(
    issues.map((i) => [i.row, i.field]),
    [[3, 'recist']],
  );
  assert.match(
    issues[0].reason,
    /The axes do not cross: the short axis meets the long axis's line 13\.0 px beyond its end/,
  );
});

test(
  'a manifest path that is a folder or a FIFO is E_FILE_UNREADABLE naming it',
  { timeout: 20000 },
  async () => {
    await assert.rejects(loadManifest(dir), (e) => {
      assert.ok(isRecist3dError(e, 'E_FILE_UNREADABLE'), String(e));
      assert.match(e.message, /Manifest is a folder/);
      assert.equal(e.context.file, dir);
      return true;
    });
    const fifo = join(dir, 'fifo.csv');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(
      loadManifest(fifo),
      (e) => isRecist3dError(e, 'E_FILE_UNREADABLE') && /named pipe/.test(e.message),
    );
  },
);
