/**
 * An answer the server acknowledged survives a kill -9 of the server: answers are posted as fast as the server
 * acknowledges them, the server is killed hard right after the last acknowledgement, and the database still
 * holds every acknowledged answer. A restarted server resumes the reader where they stopped. (The browser
 * version of this test is in test/e2e; this one needs no browser and runs in every `npm test`.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { makeFakeRun } from './helpers/fake-run.js';
import { startServe, stopServe, type ServerProcess } from './e2e/harness.js';

let dir: string;
let runDir: string;
let server: ServerProcess | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'recist3d-durable-'));
  ({ runDir } = await makeFakeRun(dir));
});

after(async () => {
  if (server) await stopServe(server);
  await rm(dir, { recursive: true, force: true });
});

const post = (base: string, path: string, body: object) =>
  fetch(new URL(path, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('kill -9 right after an acknowledgement loses no acknowledged answer; a restart resumes', async () => {
  server = await startServe(['--run', runDir, '--port', '0']);
  const s = await (await post(server.url, '/api/study/acceptance/session', { reader: 'carol' })).json();
  assert.equal(s.total, 4);
  const acked: { position: number; answer: string }[] = [];
  for (let p = 0; p < 3; p++) {
    const answer = p === 1 ? 'reject' : 'accept';
    const r = await post(server.url, '/api/study/acceptance/answers', {
      reader: 'carol',
      position: p,
      answer,
    });
    assert.equal(r.status, 200);
    const ack = await r.json();
    acked.push({ position: ack.position, answer: ack.answer });
  }
  // change one answer, and kill the server the moment the acknowledgement arrives
  const r = await post(server.url, '/api/study/acceptance/answers', {
    reader: 'carol',
    position: 1,
    answer: 'accept',
  });
  assert.equal(r.status, 200);
  await stopServe(server, 'SIGKILL');
  acked[1].answer = 'accept';
  const db = new Database(join(runDir, 'study.sqlite'), { readonly: true });
  const rows = db
    .prepare(
      "SELECT position, answer FROM answers WHERE reader = 'carol' AND kind = 'acceptance' ORDER BY position",
    )
    .all();
  db.close();
  assert.deepEqual(rows, acked);
  server = await startServe(['--run', runDir, '--port', '0']);
  const resumed = await (await post(server.url, '/api/study/acceptance/session', { reader: 'carol' })).json();
  assert.deepEqual([resumed.position, resumed.answered, resumed.total], [3, 3, 4]);
});
