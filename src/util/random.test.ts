import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from './random.js';

test('createRng is reproducible and seed-dependent', () => {
  const a = createRng(42);
  const b = createRng(42);
  const c = createRng(43);
  const sa = Array.from({ length: 5 }, () => a.next());
  const sb = Array.from({ length: 5 }, () => b.next());
  const sc = Array.from({ length: 5 }, () => c.next());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
});

test('createRng distributions have the right ranges and moments', () => {
  const r = createRng(7);
  const n = 20000;
  let sum = 0;
  let sumSq = 0;
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < n; i++) {
    const u = r.uniform(-2, 3);
    assert.ok(u >= -2 && u < 3);
    const k = r.int(4);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 4);
    counts[k]++;
    const z = r.normal();
    sum += z;
    sumSq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(sumSq / n - 1) < 0.05, `var ${sumSq / n}`);
  for (const c of counts) assert.ok(Math.abs(c / n - 0.25) < 0.02);
});
