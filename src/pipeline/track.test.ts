import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LesionRecord } from '../types/recist.js';
import { pearsonR2, relativeChange, trackKey } from './track.js';

test('pearsonR2 of exactly linear data is 1, of uncorrelated data 0', () => {
  assert.ok(Math.abs(pearsonR2([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
  // x = [-1, 0, 1], y = [1, 0, 1]: covariance 0
  assert.equal(pearsonR2([-1, 0, 1], [1, 0, 1]), 0);
  assert.ok(Number.isNaN(pearsonR2([1], [1])));
});

test('relative change and track keys', () => {
  assert.equal(relativeChange([200, 300]), 0.5);
  const r = { lesionId: 'P0012_L1_t1' } as LesionRecord;
  assert.equal(trackKey(r), 'P0012_L1');
  assert.equal(trackKey({ ...r, trackId: 'liver-1' }), 'liver-1');
});
