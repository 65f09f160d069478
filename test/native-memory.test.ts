/**
 * Native memory is explicit: repeated create/train/predict/save/dispose cycles must not grow RSS
 * beyond a small bound once allocator pools are warm.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SegNet, grabCut } from '../src/model/binding.js';

const S = 32;

// A full GC before each RSS sample removes garbage JS typed arrays from the measurement.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
const N = 8;

async function cycle(path: string): Promise<void> {
  const net = await SegNet.create({ arch: 'unet', inChannels: 1, size: S, baseWidth: 4, depth: 3 });
  try {
    const x = new Float32Array(N * S * S).map((_, i) => (i % 7) / 7);
    const y = new Float32Array(N * S * S).map((_, i) => (i % 3 === 0 ? 1 : 0));
    await net.trainStep({ x, y, n: N });
    await net.trainEpoch({ x, y, n: N }, { batchSize: 4, seed: 1, augment: { flip: true, scale: 0.1 } });
    await net.save(path);
    await net.load(path);
    // 1 MB in, 1 MB out per cycle: a leaked input or output copy would add ~60 MB over the run.
    const many = new Float32Array(256 * S * S).map((_, i) => (i % 5) / 5);
    const p = await net.predict(many, 256, { batchSize: 128 });
    assert.equal(p.length, 256 * S * S);
    const images = new Uint8Array(S * S * 3).map((_, i) => i % 251);
    const trimaps = new Uint8Array(S * S).map((_, i) => (i % S < S / 2 ? 3 : 0));
    await grabCut({ images, trimaps, n: 1, h: S, w: S, iterations: 2 });
  } finally {
    net.dispose();
  }
}

test('RSS stays bounded over repeated create/train/predict/save/load/dispose cycles', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'recist3d-native-mem-'));
  try {
    const path = join(dir, 'net.pt');
    for (let i = 0; i < 5; i++) await cycle(path); // warm-up: allocator pools, thread pools, libtorch caches
    const cycles = 30;
    const rssMb: number[] = [];
    for (let i = 0; i < cycles; i++) {
      await cycle(path);
      gc();
      rssMb.push(process.memoryUsage().rss / 2 ** 20);
    }
    // Medians of the first and last 8 samples: steady growth (a leak) shows, allocator jitter does not.
    const growthMb = median(rssMb.slice(-8)) - median(rssMb.slice(0, 8));
    assert.ok(
      growthMb < 40,
      `RSS grew ${growthMb.toFixed(1)} MB over ${cycles} cycles: ${rssMb.map((m) => m.toFixed(0)).join(' ')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
