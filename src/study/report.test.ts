import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AnswerRow } from './db.js';
import { studyPlan } from './plan.js';
import { preferred, studyReport, wilson } from './report.js';

const row = (
  reader: string,
  kind: AnswerRow['kind'],
  lesionId: string,
  answer: string,
  shown: string,
): AnswerRow => ({
  reader,
  kind,
  position: 0,
  lesionId,
  answer: answer as AnswerRow['answer'],
  shown,
  answeredAt: '',
});

test('wilson: the textbook 8 of 10 interval, and none for no answers', () => {
  const [lo, hi] = wilson(8, 10)!;
  assert.ok(Math.abs(lo - 0.4902) < 1e-3 && Math.abs(hi - 0.9433) < 1e-3, `${lo} ${hi}`);
  assert.equal(wilson(0, 0), null);
  assert.deepEqual(wilson(0, 5)![0], 0);
});

test('comparison answers resolve through the left/right order that was shown', () => {
  assert.equal(preferred({ answer: 'left', shown: 'manual,auto' }), 'manual');
  assert.equal(preferred({ answer: 'right', shown: 'manual,auto' }), 'auto');
  assert.equal(preferred({ answer: 'both', shown: 'auto,manual' }), 'both');
});

test('acceptance rates per method and category, comparison counts, per reader and pooled', () => {
  const category = (id: string) => (id.startsWith('L') ? 'liver' : 'lung');
  const rows = [
    row('a', 'acceptance', 'L1', 'accept', 'auto'),
    row('a', 'acceptance', 'L1', 'reject', 'manual'),
    row('a', 'acceptance', 'N1', 'accept', 'auto'),
    row('a', 'acceptance', 'N1', 'accept', 'manual'),
    row('b', 'acceptance', 'L1', 'reject', 'auto'),
    row('a', 'comparison', 'L1', 'left', 'auto,manual'),
    row('a', 'comparison', 'N1', 'left', 'manual,auto'),
    row('b', 'comparison', 'L1', 'neither', 'manual,auto'),
    row('b', 'comparison', 'N1', 'both', 'auto,manual'),
  ];
  const r = studyReport(rows, category);
  assert.deepEqual(r.readers, ['a', 'b']);
  const a = r.acceptance.perReader.a;
  assert.deepEqual([a.overall.auto.accepted, a.overall.auto.total], [2, 2]);
  assert.deepEqual([a.overall.manual.accepted, a.overall.manual.total], [1, 2]);
  assert.deepEqual([a.byCategory.liver.manual.accepted, a.byCategory.liver.manual.total], [0, 1]);
  const pooled = r.acceptance.pooled.overall.auto;
  assert.deepEqual([pooled.accepted, pooled.total, pooled.rate], [2, 3, 2 / 3]);
  assert.deepEqual(r.comparison.perReader.a.overall, {
    autoPreferred: 1,
    both: 0,
    manualPreferred: 1,
    neither: 0,
    total: 2,
  });
  assert.deepEqual(r.comparison.pooled.overall, {
    autoPreferred: 1,
    both: 1,
    manualPreferred: 1,
    neither: 1,
    total: 4,
  });
  assert.deepEqual(r.comparison.pooled.byCategory.liver, {
    autoPreferred: 1,
    both: 0,
    manualPreferred: 0,
    neither: 1,
    total: 2,
  });
});

test('study plans: seeded, both methods shuffled together, comparison only where both masks exist', () => {
  const lesions = Array.from({ length: 12 }, (_, i) => ({
    lesionId: `L${i}`,
    hasPrediction: true,
    hasTruth: i !== 3,
  }));
  const p1 = studyPlan('acceptance', 7, lesions);
  assert.equal(p1.length, 12 + 11);
  assert.deepEqual(studyPlan('acceptance', 7, lesions), p1, 'same seed, same order');
  assert.notDeepEqual(studyPlan('acceptance', 8, lesions), p1, 'another seed, another order');
  // shuffled together: the manual masks are not all after the automatic ones
  const firstManual = p1.findIndex((i) => i.shown[0] === 'manual');
  assert.ok(firstManual < 12, `first manual at ${firstManual}`);
  const cmp = studyPlan('comparison', 7, lesions);
  assert.equal(cmp.length, 11);
  assert.ok(!cmp.some((i) => i.lesionId === 'L3'));
  const lefts = new Set(cmp.map((i) => i.shown[0]));
  assert.deepEqual([...lefts].sort(), ['auto', 'manual'], 'both methods appear on the left');
  for (const i of cmp) assert.deepEqual([...i.shown].sort(), ['auto', 'manual']);
});
