import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepComponentsTouching, labelComponents2d } from './connected.js';

// 5x3 grid (i fastest):
// row j=0: 1 1 0 0 1
// row j=1: 0 1 0 0 1
// row j=2: 0 0 0 1 0   <- (3,2) touches (4,1) diagonally, so it joins the right component
const grid = Uint8Array.from([1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0]);

test('labelComponents2d counts 8-connected components', () => {
  const { labels, count } = labelComponents2d(grid, 5, 3);
  assert.equal(count, 2);
  assert.equal(labels[0], labels[6]);
  assert.equal(labels[4], labels[13]);
  assert.notEqual(labels[0], labels[4]);
});

test('keepComponentsTouching keeps only the seeded component (2D)', () => {
  const seed = new Uint8Array(15);
  seed[13] = 1;
  const kept = keepComponentsTouching(grid, seed, [5, 3]);
  assert.deepEqual([...kept], [0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
});

test('keepComponentsTouching follows 26-connectivity across slices', () => {
  // 2x2x3: voxel (0,0,0), (1,1,1) diagonal neighbour, (0,0,2) diagonal again; a seed at k=0 keeps all three.
  const m = new Uint8Array(12);
  m[0] = 1; // (0,0,0)
  m[3 + 4] = 1; // (1,1,1)
  m[0 + 8] = 1; // (0,0,2)
  const seed = new Uint8Array(12);
  seed[0] = 1;
  assert.equal(
    keepComponentsTouching(m, seed, [2, 2, 3]).reduce((a, b) => a + b, 0),
    3,
  );
  const farSeed = new Uint8Array(12);
  farSeed[1] = 1; // (1,0,0) is empty in the mask: nothing is kept
  assert.equal(
    keepComponentsTouching(m, farSeed, [2, 2, 3]).reduce((a, b) => a + b, 0),
    0,
  );
});
