import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StageRunner, settingDiffs, type StageSpec } from './stage-runner.js';

/** A three-stage job whose stages count how often they ran; stage b's setting and the version are inputs. */
async function job(dir: string, b: number, version = '1.0.0', cohort = 'cohort-1') {
  const ran: string[] = [];
  const log: string[] = [];
  const runner = new StageRunner(dir, { recist3d: version }, { log: (m) => log.push(m) });
  await runner.bindCohort(cohort, 3);
  const stage = (name: string, settings: unknown): StageSpec<string> => ({
    name,
    settings,
    produce: async (key) => {
      ran.push(name);
      return `${name}:${key}`;
    },
    load: async (m) => `${name}:${m.key}`,
  });
  const values = [
    await runner.run(stage('a', { x: 1 })),
    await runner.run(stage('b', { fit: { epochs: b } })),
    await runner.run(stage('c', { y: 2 })),
  ];
  return { ran, log, values, runner };
}

test('stage runner: a rerun reuses every finished stage; a changed setting reruns from its stage on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-stages-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = await job(dir, 5);
  assert.deepEqual(first.ran, ['a', 'b', 'c']);
  const again = await job(dir, 5);
  assert.deepEqual(again.ran, []);
  assert.deepEqual(
    again.values.map((v) => v.value),
    first.values.map((v) => v.value),
  );
  assert.ok(again.values.every((v) => v.reused));
  const changed = await job(dir, 6);
  assert.deepEqual(changed.ran, ['b', 'c']);
  assert.ok(
    changed.log.some((l) => l.includes('[b] runs again: fit.epochs 5 -> 6')),
    changed.log.join('\n'),
  );
  assert.ok(changed.log.some((l) => l.includes('[c] runs again: an earlier stage ran again')));
  // the marker records the version, the git revision, the settings and when it ran
  const m = changed.values[1].marker;
  assert.equal(m.recist3d, '1.0.0');
  assert.deepEqual(m.settings, { fit: { epochs: 6 } });
  assert.ok(m.gitRevision.length > 0 && Date.parse(m.finishedAt) >= Date.parse(m.startedAt));
});

test('stage runner: a new recist3d version reruns every stage and says why', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-stages-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await job(dir, 5, '1.0.0');
  const upgraded = await job(dir, 5, '1.1.0');
  assert.deepEqual(upgraded.ran, ['a', 'b', 'c']);
  assert.ok(upgraded.log.some((l) => l.includes('[a] runs again: recist3d 1.0.0 -> 1.1.0')));
});

test('stage runner: another cohort in the same folder is refused with E_CONFIG naming the file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-stages-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await job(dir, 5);
  await assert.rejects(
    job(dir, 5, '1.0.0', 'cohort-2'),
    (e: Error & { code?: string }) => e.code === 'E_CONFIG' && e.message.includes('cohort.json'),
  );
});

test('stage runner: a corrupt marker or unreadable artifacts rerun the stage instead of failing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-stages-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await job(dir, 5);
  await writeFile(join(dir, '.done-b.json'), '{"format": "recist3d-stage-2", "key": tru');
  const afterCorruptMarker = await job(dir, 5);
  assert.deepEqual(afterCorruptMarker.ran, ['b', 'c']);
  // artifacts that cannot be loaded: the stage runs again and says so
  const log: string[] = [];
  const r2 = new StageRunner(dir, { recist3d: '1.0.0' }, { log: (m) => log.push(m) });
  await r2.bindCohort('cohort-1', 3);
  let produced = 0;
  const out = await r2.run({
    name: 'a',
    settings: { x: 1 },
    produce: async () => String(++produced),
    load: async () => {
      throw new Error('label file truncated');
    },
  });
  assert.equal(out.value, '1');
  assert.ok(log.some((l) => l.includes('its artifacts are unreadable (label file truncated)')));
});

test('settingDiffs names each changed leaf with its old and new value', () => {
  assert.deepEqual(
    settingDiffs({ a: 1, b: { c: 'x', d: [1] } }, { a: 1, b: { c: 'y', d: [1, 2] }, e: true }),
    ['b.c "x" -> "y"', 'b.d [1] -> [1,2]', 'e unset -> true'],
  );
});
