/**
 * Synthetic training images and a tiny stacked GAN for the SR tests: smooth scenes with edges stand in for the
 * wallpaper photographs, and `trainTinySr` trains G1 and G2 of a few thousand parameters for a few steps (a
 * second or two), enough for the files, hashes and channels that HNN-SR depends on.
 */
import { trainStackedGan } from '../../src/sr/train.js';
import type { GrayImage } from '../../src/sr/degrade.js';
import type { SourceImage } from '../../src/sr/sources.js';
import { createRng } from '../../src/util/random.js';

/** Generator and discriminator sizes small enough to train in a test. */
export const TINY = { blocks: 1, width: 4, discWidth: 2, dense: 4 };

/** A smooth image with edges: a bright disc on a gradient, h x w. */
export function scene(h: number, w: number, seed = 0): GrayImage {
  const rng = createRng(seed);
  const cx = w * rng.uniform(0.3, 0.7),
    cy = h * rng.uniform(0.3, 0.7),
    r = Math.min(h, w) * rng.uniform(0.15, 0.3);
  const data = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      data[y * w + x] = 0.2 + 0.3 * (x / w) + ((x - cx) ** 2 + (y - cy) ** 2 < r * r ? 0.4 : 0);
  return { h, w, data };
}

export function photos(n: number, side: number): SourceImage[] {
  return Array.from({ length: n }, (_, i) => ({
    ...scene(side, side + 7, i),
    name: `scene-${i}`,
    kind: 'photo' as const,
  }));
}

/** Trains a tiny stacked GAN (G1 4 steps, G2 3 steps) into `dir`; `seed` changes the weights. */
export async function trainTinySr(dir: string, seed = 7): Promise<void> {
  await trainStackedGan(
    dir,
    {
      photos: photos(3, 40),
      ct: photos(2, 36).map((p) => ({ ...p, kind: 'ct' as const })),
      ctWindowsHu: [[-160, 240] as const],
    },
    {
      seed,
      stages: {
        g1: { ...TINY, steps: 4, batchSize: 2, crop: 16 },
        g2: { ...TINY, steps: 3, batchSize: 1, crop: 32 },
      },
    },
  );
}
