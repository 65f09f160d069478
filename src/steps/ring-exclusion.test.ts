import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sliceBoxSize } from '../geometry/roi-project.js';
import type { LesionStack } from '../types/stack.js';
import { resolveOptions } from '../util/options.js';
import { withPhantomStack } from '../../test/helpers/phantom-stack.js';
import { huSlice, keyEllipseOnHuBox } from './hu-exclusion.js';
import { KEY_SLICE_DEFAULTS, lesionRules, sliceWithRules, type KeySliceOptions } from './key-slice.js';
import { excludeRingLike, RING_EXCLUSION_DEFAULTS, ringModel } from './ring-exclusion.js';

const X = RING_EXCLUSION_DEFAULTS.ringExclusion;

/** Paints the key slice: `lesionHu` inside 1.2 x the RECIST ellipse (core and its edge), `ringHu` outside. */
function paintKeySlice(s: LesionStack, lesionHu: number, ringHu: number): void {
  const inside = keyEllipseOnHuBox(s, 1.2);
  const hu = huSlice(s, s.record.keySlice);
  for (let p = 0; p < hu.length; p++) hu[p] = inside[p] >= 0.5 ? lesionHu : ringHu;
}

test('ring exclusion drops what looks like the surroundings, keeps the lesion, the edge and in-between values', async () => {
  await withPhantomStack(5, (s) => {
    paintKeySlice(s, 20, 150); // a cyst in kidney parenchyma
    const m = ringModel(s, X);
    assert.ok(m, 'a model from the key slice');
    // one row, no averaging: a partial-volume value between the two, lesion x 2, parenchyma x 3
    const row = { ...m, smoothPx: 0 };
    const hu = Float32Array.from([85, 20, 20, 150, 150, 150]);
    const mask = new Uint8Array(hu.length).fill(1);
    excludeRingLike(mask, hu, [0, 0, hu.length - 1, 0], row);
    assert.deepEqual([...mask], [1, 1, 1, 1, 0, 0], 'the first parenchyma pixel touches the lesion (edge)');
    const noEdge = new Uint8Array(hu.length).fill(1);
    excludeRingLike(noEdge, hu, [0, 0, hu.length - 1, 0], { ...row, keepNearPx: 0 });
    assert.deepEqual([...noEdge], [1, 1, 1, 0, 0, 0]);
  });
});

test('ring exclusion leaves a lesion as dense as its surroundings alone, and needs HU', async () => {
  await withPhantomStack(5, (s) => {
    paintKeySlice(s, 40, 40); // a sarcoma in muscle
    const m = ringModel(s, X)!;
    const hu = Float32Array.from([40, 40, 150, -100, 40]);
    const mask = new Uint8Array(hu.length).fill(1);
    excludeRingLike(mask, hu, [0, 0, hu.length - 1, 0], { ...m, smoothPx: 0, keepNearPx: 0 });
    assert.deepEqual([...mask], [1, 1, 1, 1, 1], 'no value is ring-like when core and ring are alike');
    const { boxHu: _hu, ...noHu } = s;
    assert.equal(ringModel(noHu, X), undefined, 'no HU, no model');
  });
});

test('a viable rim that looks like the surrounding organ stays, because the lesion histogram spans the ellipse x 0.8', async () => {
  await withPhantomStack(5, (s) => {
    // a necrotic metastasis: centre (inner half of the ellipse) 10 HU, viable rim out to 1.2 x 100 HU, liver 100 HU
    paintKeySlice(s, 100, 100);
    const centre = keyEllipseOnHuBox(s, 0.5);
    const key = huSlice(s, s.record.keySlice);
    for (let p = 0; p < key.length; p++) if (centre[p] >= 0.5) key[p] = 10;
    const hu = Float32Array.from([10, 100, 100, 100, 100]);
    const keep = (x: typeof X) => {
      const mask = new Uint8Array(hu.length).fill(1);
      excludeRingLike(mask, hu, [0, 0, hu.length - 1, 0], {
        ...ringModel(s, x)!,
        smoothPx: 0,
        keepNearPx: 0,
      });
      return [...mask];
    };
    assert.deepEqual(keep(X), [1, 1, 1, 1, 1], 'the default keeps the rim');
    assert.deepEqual(keep({ ...X, coreScale: 0.5 }), [1, 0, 0, 0, 0], 'the inner half alone would cut it');
  });
});

test('in the slice rules, ring exclusion applies off the key slice only, and null turns it off', async () => {
  await withPhantomStack(5, (s) => {
    paintKeySlice(s, 20, 150);
    const box = s.boxHu!.box;
    const k = s.record.keySlice === s.kMin ? s.kMin + 1 : s.kMin;
    huSlice(s, k).fill(150); // an off-key slice of parenchyma only: nothing there is lesion
    const o = resolveOptions<KeySliceOptions>(KEY_SLICE_DEFAULTS, {
      priorOutThreshold: 0,
      keySlab: -1,
      huExclusion: null,
    });
    const [w, h] = sliceBoxSize(box);
    const n = w * h;
    const sure = new Float32Array(n).fill(0.99);
    const count = (a: Uint8Array) => a.reduce((x, y) => x + y, 0);
    const on = lesionRules(s, box, o);
    assert.ok(on.ring, 'the rule is on by default');
    assert.equal(count(sliceWithRules(sure, s, k, box, 0.5, on)), 0, 'the parenchyma slice is cleared');
    assert.equal(count(sliceWithRules(sure, s, s.record.keySlice, box, 0.5, on)), n, 'the key slice is not');
    const off = lesionRules(s, box, { ...o, ringExclusion: null });
    assert.equal(off.ring, undefined);
    assert.equal(count(sliceWithRules(sure, s, k, box, 0.5, off)), n);
  });
});
