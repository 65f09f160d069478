/**
 * Batched native GrabCut: recovers a bright disk from a RECIST-like trimap, handles images whose trimap
 * cannot seed GrabCut without failing the batch, and gives the same mask for an image batched or alone.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GRABCUT_STATUS, grabCut, grabCutWithStatus } from '../src/model/binding.js';
import { createRng } from '../src/util/random.js';

const H = 64;
const W = 64;
const PLANE = H * W;

interface Case {
  image: Uint8Array; // H*W*3 BGR
  trimap: Uint8Array; // H*W
  truth: Uint8Array; // H*W
}

/** A noisy bright disk of radius r at (cy, cx); trimap: FG core, PR_FG/PR_BG rings, BG beyond 1.6 r. */
function diskCase(cy: number, cx: number, r: number, seed: number): Case {
  const rng = createRng(seed);
  const image = new Uint8Array(PLANE * 3);
  const trimap = new Uint8Array(PLANE);
  const truth = new Uint8Array(PLANE);
  for (let i = 0; i < H; i++) {
    for (let j = 0; j < W; j++) {
      const p = i * W + j;
      const d = Math.hypot(i - cy, j - cx) / r;
      truth[p] = d <= 1 ? 1 : 0;
      const v = Math.max(0, Math.min(255, Math.round((d <= 1 ? 170 : 70) + 20 * rng.normal())));
      image.fill(v, p * 3, p * 3 + 3);
      trimap[p] = d < 0.4 ? 1 : d < 1.15 ? 3 : d < 1.6 ? 2 : 0;
    }
  }
  return { image, trimap, truth };
}

function dice(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    inter += a[i] & b[i];
    sum += a[i] + b[i];
  }
  return (2 * inter) / sum;
}

function batchOf(cases: Case[]) {
  const images = new Uint8Array(cases.length * PLANE * 3);
  const trimaps = new Uint8Array(cases.length * PLANE);
  cases.forEach((c, k) => {
    images.set(c.image, k * PLANE * 3);
    trimaps.set(c.trimap, k * PLANE);
  });
  return { images, trimaps, n: cases.length, h: H, w: W, iterations: 5 };
}

test('GrabCut recovers a bright disk from its trimap (Dice > 0.9, better than the trimap alone)', async () => {
  const c = diskCase(30, 34, 14, 1);
  const mask = await grabCut(batchOf([c]));
  const fromTrimap = c.trimap.map((t) => t & 1);
  const d = dice(mask, c.truth);
  assert.ok(d > 0.9, `GrabCut Dice ${d}`);
  assert.ok(d > dice(fromTrimap, c.truth), 'GrabCut should improve on the trimap FG|PR_FG');
  assert.ok(
    mask.every((v, p) => c.trimap[p] !== 1 || v === 1),
    'hard FG stays FG',
  );
  assert.ok(
    mask.every((v, p) => c.trimap[p] !== 0 || v === 0),
    'hard BG stays BG',
  );
});

test('a batch runs every image; unusable trimaps fall back to FG|PR_FG with a status', async () => {
  const good = [diskCase(32, 32, 12, 2), diskCase(24, 40, 10, 3), diskCase(40, 28, 16, 4)];
  const noFg: Case = { ...good[0], trimap: new Uint8Array(PLANE) }; // all BG
  const noBg: Case = { ...good[1], trimap: new Uint8Array(PLANE).fill(3) }; // all PR_FG
  const { masks, status } = await grabCutWithStatus(batchOf([good[0], noFg, good[1], noBg, good[2]]));
  assert.deepEqual(
    [...status],
    [
      GRABCUT_STATUS.OK,
      GRABCUT_STATUS.NO_FOREGROUND,
      GRABCUT_STATUS.OK,
      GRABCUT_STATUS.NO_BACKGROUND,
      GRABCUT_STATUS.OK,
    ],
  );
  assert.ok(masks.subarray(PLANE, 2 * PLANE).every((v) => v === 0));
  assert.ok(masks.subarray(3 * PLANE, 4 * PLANE).every((v) => v === 1));
  // The same image gives the same mask whether it runs alone or in a parallel batch.
  for (const [k, c] of [
    [0, good[0]],
    [2, good[1]],
    [4, good[2]],
  ] as const) {
    const alone = await grabCut(batchOf([c]));
    assert.deepEqual(masks.subarray(k * PLANE, (k + 1) * PLANE), alone, `image ${k}`);
    assert.ok(dice(alone, c.truth) > 0.9, `image ${k} Dice ${dice(alone, c.truth)}`);
  }
});
