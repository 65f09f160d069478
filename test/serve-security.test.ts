/**
 * recist3d serve's API and its defences, without a browser: files only through ids, 4xx JSON errors for
 * traversal, unknown ids, malformed and oversized requests, foreign Host and Origin headers, and the token
 * required on a non-loopback bind. The run folder is made by hand (test/helpers/fake-run.ts; masks = truth).
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildServer, startServer } from '../src/serve/server.js';
import { makeFakeRun } from './helpers/fake-run.js';
import { WEB_DIR } from '../src/serve/assets.js';

let dir: string;
let runDir: string;
let app: FastifyInstance;
let webDir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recist3d-serve-'));
  ({ runDir } = await makeFakeRun(dir));
  // a minimal built page, so this test does not depend on the vite build
  webDir = join(dir, 'web');
  await mkdir(join(webDir, 'assets'), { recursive: true });
  await writeFile(join(webDir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(join(webDir, 'assets', 'app.js'), 'console.log(1)');
  ({ app } = await buildServer(runDir, { webDir }));
});

after(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, headers: { host: '127.0.0.1:8080', ...headers } });
const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  app.inject({
    method: 'POST',
    url,
    payload: body,
    headers: { host: '127.0.0.1:8080', 'content-type': 'application/json', ...headers },
  });

function assertError(res: Awaited<ReturnType<typeof get>>, status: number, code: string): void {
  assert.equal(res.statusCode, status, res.body);
  assert.match(res.headers['content-type'] as string, /application\/json/);
  assert.equal(res.json().error.code, code, res.body);
  assert.ok(res.json().error.message.length > 0);
}

test('the run, its lesions and a lesion slab, served by id', async () => {
  const run = (await get('/api/run')).json();
  assert.equal(run.lesions, 4);
  assert.equal(run.hasManifest, true);
  const list = (await get('/api/lesions')).json();
  assert.deepEqual(
    list.map((l: { lesionId: string; hasPrediction: boolean }) => [l.lesionId, l.hasPrediction]),
    [
      ['good_a', true],
      ['good_b', true],
      ['escape', false],
      ['no_image', false],
    ],
    'a mask path pointing out of the run folder is not followed',
  );
  const a = (await get('/api/lesions/good_a')).json();
  assert.deepEqual(
    { ...a.slab, spacingMm: a.slab.spacingMm.map((x: number) => +x.toFixed(4)) },
    {
      size: [40, 36, 5],
      k0: 0,
      k1: 4,
      spacingMm: [0.8, 0.8, 2.5],
    },
  );
  assert.deepEqual(a.recist.long, [
    [11, 17],
    [25, 17],
  ]);
  const ct = await get('/api/lesions/good_a/ct.nii');
  assert.equal(ct.statusCode, 200);
  assert.equal(ct.rawPayload.readInt32LE(0), 348, 'a NIfTI-1 header');
  assert.equal(ct.rawPayload.length, 352 + 40 * 36 * 5 * 2);
  const masks = await get('/api/lesions/good_a/masks.bin');
  assert.equal(masks.rawPayload.length, 40 * 36 * 5);
  // prediction (bit 0) = truth (bit 1) here: every set voxel has both bits
  const set = [...masks.rawPayload].filter((v) => v !== 0);
  assert.ok(set.length > 100 && set.every((v) => v === 3));
  assert.equal((await get('/run/report.html')).body, '<html>report</html>');
  assert.match((await get('/')).headers['content-security-policy'] as string, /default-src 'self'/);
});

test('path traversal and unknown ids get 404 JSON, never a file', async () => {
  for (const url of [
    '/api/lesions/..%2F..%2Fetc%2Fpasswd',
    '/api/lesions/..%2F..%2Fetc%2Fpasswd/ct.nii',
    '/api/lesions/%2E%2E/masks.bin',
    '/run/..%2Fmetrics.json',
    '/run/..%2F..%2Fa.nii.gz',
    '/run/study.sqlite',
    '/assets/..%2F..%2Fpackage.json',
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/api/lesions/nope',
    '/api/lesions/no_image/ct.nii',
    '/api/nothing',
  ])
    assertError(await get(url), 404, 'E_NOT_FOUND');
  assertError(await get(`/api/lesions/${'x'.repeat(300)}`), 404, 'E_NOT_FOUND');
});

test('malformed and oversized requests get 4xx JSON', async () => {
  assertError(await post('/api/study/acceptance/session', '{"reader":'), 400, 'E_MALFORMED');
  assertError(await post('/api/study/acceptance/session', ''), 400, 'E_MALFORMED');
  assertError(
    await post('/api/study/acceptance/session', 'reader=x', { 'content-type': 'text/plain' }),
    415,
    'E_MEDIA_TYPE',
  );
  assertError(await post('/api/study/other/session', '{"reader":"r"}'), 400, 'E_BAD_REQUEST');
  assertError(await post('/api/study/acceptance/session', '{"reader":"../etc"}'), 400, 'E_BAD_REQUEST');
  assertError(await post('/api/study/acceptance/session', '{"reader":"r","extra":1}'), 400, 'E_BAD_REQUEST');
  assertError(
    await post('/api/study/acceptance/session', JSON.stringify({ reader: 'r'.repeat(20000) })),
    413,
    'E_TOO_LARGE',
  );
  const s = (await post('/api/study/acceptance/session', '{"reader":"r1"}')).json();
  assert.deepEqual([s.total, s.position, s.answered], [4, 0, 0], 'good_a and good_b, automatic and manual');
  const answer = (body: object) => post('/api/study/acceptance/answers', JSON.stringify(body));
  assertError(await answer({ reader: 'r1', position: 0, answer: 'left' }), 400, 'E_BAD_REQUEST');
  assertError(await answer({ reader: 'r1', position: -1, answer: 'accept' }), 400, 'E_BAD_REQUEST');
  assertError(await answer({ reader: 'r1', position: 1.5, answer: 'accept' }), 400, 'E_BAD_REQUEST');
  assertError(await answer({ reader: 'r1', position: 99, answer: 'accept' }), 404, 'E_NOT_FOUND');
  assertError(await answer({ reader: 'nobody', position: 0, answer: 'accept' }), 404, 'E_NOT_FOUND');
  assertError(await get('/api/study/acceptance/items/0'), 400, 'E_BAD_REQUEST');
  assertError(await get('/api/study/acceptance/items/abc?reader=r1'), 400, 'E_BAD_REQUEST');
  const ok = await answer({ reader: 'r1', position: 0, answer: 'accept' });
  assert.equal(ok.statusCode, 200);
  assert.deepEqual([ok.json().session.answered, ok.json().session.position], [1, 1]);
});

test('study screens do not tell the reader which method made the mask', async () => {
  await post('/api/study/comparison/session', '{"reader":"r2"}');
  const item = await get('/api/study/comparison/items/0?reader=r2');
  assert.equal(item.statusCode, 200);
  assert.doesNotMatch(item.body, /auto|manual|truth|predict|masks\//i);
  assert.equal(item.json().masks, 2);
  const bits = (await get('/api/study/comparison/items/0/masks.bin?reader=r2')).rawPayload;
  assert.ok(
    bits.some((v) => v === 3),
    'left and right masks (here identical) in bits 0 and 1',
  );
});

test('a foreign Host or Origin is refused on loopback', async () => {
  assertError(await get('/api/run', { host: 'evil.example:8080' }), 403, 'E_HOST');
  assertError(
    await post('/api/study/acceptance/session', '{"reader":"r"}', { origin: 'http://evil.example' }),
    403,
    'E_ORIGIN',
  );
  assert.equal((await get('/api/run', { host: 'localhost:8080' })).statusCode, 200);
});

test('a non-loopback bind requires the printed token (query, cookie or bearer)', async () => {
  const s = await startServer(runDir, { host: '0.0.0.0', port: 0, webDir });
  try {
    assert.ok(s.token && s.token.length >= 32);
    const url = new URL(s.url);
    assert.equal(url.searchParams.get('token'), s.token, 'the printed URL carries the token');
    const base = `http://127.0.0.1:${url.port}`;
    for (const path of ['/', '/api/run', '/api/lesions/good_a/ct.nii']) {
      const r = await fetch(base + path);
      assert.equal(r.status, 401, path);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'E_TOKEN');
    }
    assert.equal((await fetch(`${base}/api/run?token=wrong`)).status, 401);
    const first = await fetch(`${base}/?token=${s.token}`);
    assert.equal(first.status, 200);
    const cookie = first.headers.get('set-cookie')!;
    assert.match(cookie, /HttpOnly; SameSite=Strict/);
    assert.equal((await fetch(`${base}/api/run`, { headers: { cookie: cookie.split(';')[0] } })).status, 200);
    assert.equal(
      (await fetch(`${base}/api/run`, { headers: { authorization: `Bearer ${s.token}` } })).status,
      200,
    );
  } finally {
    await s.close();
  }
});

test('the built web app is found where the setup puts it', () => {
  assert.match(WEB_DIR, /dist\/web\/$/);
});
