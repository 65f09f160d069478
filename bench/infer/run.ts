/**
 * Inference time per ROI of the 2D lesion CNNs (target: <= 5 ms per 128 px ROI, batched). Builds a fresh
 * HNN and UNet (inference cost does not depend on the weights), predicts a batch of ROIs `--reps` times
 * after a warm-up, and prints the median ms per ROI. A benchmark, never a test.
 *
 *   npx tsx bench/infer/run.ts [--size 128] [--batch 64] [--reps 5] [--base 16] [--threads N] [--arch hnn,unet]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { SegNet, engineInfo, setThreads, type Arch } from '../../src/model/binding.js';
import { createRng } from '../../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '64' },
    reps: { type: 'string', default: '5' },
    base: { type: 'string', default: '16' },
    threads: { type: 'string', default: String(availableParallelism()) },
    arch: { type: 'string', default: 'hnn,unet' },
  },
});
const [size, batch, reps, base, threads] = [args.size, args.batch, args.reps, args.base, args.threads].map(
  Number,
);

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

setThreads(threads);
const info = engineInfo();
process.stdout.write(
  `torch ${info.torchVersion}, ${info.threads} threads, device ${info.device}; ${batch} ROIs of ${size}x${size}, ` +
    `base width ${base}, median of ${reps}\n`,
);
const rng = createRng(0);
const x = Float32Array.from({ length: batch * size * size }, () => rng.next());
for (const arch of args.arch.split(',') as Arch[]) {
  const net = SegNet.create({ arch, inChannels: 1, size, baseWidth: base, seed: 0 });
  try {
    await net.predict(x, batch, { batchSize: batch });
    const ms: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await net.predict(x, batch, { batchSize: batch });
      ms.push((performance.now() - t0) / batch);
    }
    const m = median(ms);
    process.stdout.write(
      `${arch.padEnd(5)} ${net.parameterCount().toLocaleString('en-US').padStart(9)} params  ` +
        `${m.toFixed(2)} ms/ROI (min ${Math.min(...ms).toFixed(2)}, max ${Math.max(...ms).toFixed(2)})  ` +
        `${m <= 5 ? 'meets' : 'misses'} the 5 ms target\n`,
    );
  } finally {
    net.dispose();
  }
}
