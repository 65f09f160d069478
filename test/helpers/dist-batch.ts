/**
 * The batch and network of the data-parallel tests: a small HNN (no batch norm, so a step on a shard of the
 * batch, averaged over the ranks, equals a step on the whole batch up to float rounding) and a seeded batch.
 */
import type { NetConfig, TrainBatch } from '../../src/model/binding.js';

export const DIST_NET: NetConfig = {
  arch: 'hnn',
  inChannels: 1,
  size: 16,
  baseWidth: 4,
  depth: 3,
  seed: 11,
  learningRate: 1e-3,
};

const N = 4;
const SIZE = 16;

/** N images: smooth blobs with a noisy background, the blob as target, a few zero weights. */
export function distBatch(): TrainBatch {
  let s = 12345;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const px = SIZE * SIZE;
  const x = new Float32Array(N * px);
  const y = new Float32Array(N * px);
  const w = new Float32Array(N * px).fill(1);
  for (let i = 0; i < N; i++) {
    const cx = 4 + rand() * 8;
    const cy = 4 + rand() * 8;
    const r = 2 + rand() * 3;
    for (let p = 0; p < px; p++) {
      const inside = Math.hypot((p % SIZE) - cx, Math.floor(p / SIZE) - cy) < r;
      x[i * px + p] = (inside ? 0.8 : 0.2) + 0.2 * (rand() - 0.5);
      y[i * px + p] = inside ? 1 : 0;
      if (rand() < 0.05) w[i * px + p] = 0;
    }
  }
  return { x, y, w, n: N };
}

/** Rank `rank`'s contiguous share of `b` (worldSize must divide b.n). */
export function shardOf(b: TrainBatch, rank: number, worldSize: number): TrainBatch {
  const n = b.n / worldSize;
  const px = b.y.length / b.n;
  const c = b.x.length / b.y.length;
  const cut = (a: Float32Array, per: number) => a.slice(rank * n * per, (rank + 1) * n * per);
  return { x: cut(b.x, c * px), y: cut(b.y, px), ...(b.w ? { w: cut(b.w, px) } : {}), n };
}
