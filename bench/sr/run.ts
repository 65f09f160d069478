/**
 * The stacked GAN's cost (issue 15), a benchmark, never a test:
 * - inference per 64 px and 128 px ROI of G1 + G2 (zoom 1, as `--sr` would feed the CNN) against the 2D CNN's
 *   own inference per ROI of the same size (HNN, base width 16, the `run` default), measured in the same run with
 *   alternating repetitions (ABBA), medians and the paired ratio SR / CNN;
 * - one 512x512 key slice through G1 + G2;
 * - training time per step and per stage of the preset (median of a few steps, times the preset's steps);
 * - the process's peak resident memory.
 *
 *   npx tsx bench/sr/run.ts [--model DIR] [--preset small|paper] [--batch 32] [--reps 5] [--steps 3] [--threads N]
 *
 * --model: time the trained generators of a `recist3d sr train` folder (as `masks --method grabcut-r-sr` runs
 * them). Without it, freshly initialised networks of the preset are timed (since inference runs in small
 * channels-last passes, as fast as trained ones: 13.9 against 17.4 ms per 64 px ROI measured here).
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SegNet, SrGan, engineInfo, setThreads, srPassBatch } from '../../src/model/binding.js';
import { SR_PRESETS, type SrPreset } from '../../src/sr/train.js';
import { loadSrModels } from '../../src/sr/model-files.js';
import { createRng } from '../../src/util/random.js';
import { median } from '../lib/peer.js';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string' },
    preset: { type: 'string', default: 'small' },
    batch: { type: 'string', default: '32' },
    reps: { type: 'string', default: '5' },
    steps: { type: 'string', default: '3' },
    threads: { type: 'string', default: String(Math.min(2, availableParallelism())) },
  },
});
const preset = SR_PRESETS[args.preset as SrPreset];
if (!preset) throw new Error(`--preset must be one of ${Object.keys(SR_PRESETS).join(', ')}`);
const [batch, reps, steps, threads] = [args.batch, args.reps, args.steps, args.threads].map(Number);
setThreads(threads);
const info = engineInfo();
const rng = createRng(0);
const random = (n: number) => Float32Array.from({ length: n }, () => rng.next());
process.stdout.write(
  `torch ${info.torchVersion}, ${info.threads} threads; preset ${args.preset}; ${batch} ROIs per call, median of ${reps}; ` +
    `load average ${loadavg()[0].toFixed(1)}\n`,
);

const { g1, g2 } = args.model
  ? await loadSrModels(args.model)
  : { g1: await SrGan.create(preset.g1), g2: await SrGan.create(preset.g2) };
process.stdout.write(
  `inference: ${args.model ? `trained generators of ${args.model}` : 'untrained generators (see --model)'}\n`,
);
const time = async (fn: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
};
for (const size of [64, 128]) {
  const cnn = await SegNet.create({ arch: 'hnn', inChannels: 1, size, baseWidth: 16, seed: 0 });
  const x = random(batch * size * size);
  // `batch` ROIs per call, split by SrGan.apply into its default passes (srPassBatch), as `--sr` runs them
  const sr = async () => g2.apply(await g1.apply(x, batch, size, size), batch, size, size);
  const cnnRun = () => cnn.predict(x, batch, { batchSize: batch });
  await sr();
  await cnnRun();
  const a: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (r % 2 === 0) {
      a.push((await time(sr)) / batch);
      b.push((await time(cnnRun)) / batch);
    } else {
      b.push((await time(cnnRun)) / batch);
      a.push((await time(sr)) / batch);
    }
  }
  const ratio = median(a.map((v, i) => v / b[i]));
  process.stdout.write(
    `${size} px ROI (${srPassBatch(size, size)} per pass): SR (G1+G2) ${median(a).toFixed(2)} ms/ROI, CNN (hnn, base 16) ${median(b).toFixed(2)} ms/ROI, ratio SR/CNN ${ratio.toFixed(2)} (paired median)\n`,
  );
  cnn.dispose();
}
{
  const x = random(512 * 512);
  await g2.apply(await g1.apply(x, 1, 512, 512), 1, 512, 512);
  const ms: number[] = [];
  for (let r = 0; r < Math.max(1, Math.ceil(reps / 2)); r++)
    ms.push(await time(async () => g2.apply(await g1.apply(x, 1, 512, 512), 1, 512, 512)));
  process.stdout.write(`512x512 key slice: SR (G1+G2) ${median(ms).toFixed(0)} ms\n`);
}
g1.dispose();
g2.dispose();
for (const stage of ['g1', 'g2'] as const) {
  const s = preset[stage];
  const net = await SrGan.create(s);
  const n = s.batchSize * s.crop * s.crop;
  const x = random(n);
  const y = random(n);
  await net.trainStep(x, y, s.batchSize, s.crop, s.crop);
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) ms.push(await time(() => net.trainStep(x, y, s.batchSize, s.crop, s.crop)));
  const m = median(ms);
  process.stdout.write(
    `train ${stage}: ${m.toFixed(0)} ms/step (batch ${s.batchSize} of ${s.crop} px), x ${s.steps} steps = ${((m * s.steps) / 60000).toFixed(1)} min per stage (network only)\n`,
  );
  net.dispose();
}
process.stdout.write(
  `peak resident memory ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; load average ${loadavg()[0].toFixed(1)}\n`,
);
