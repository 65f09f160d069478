/**
 * Training throughput of recist3d's native engine against PyTorch (Debian python3-torch, the same
 * libtorch build) on the same network, loss, optimizer, batch and thread count. Repetitions of the two
 * engines alternate so that both see the same machine load; prints the median images/s and the ratio.
 *
 *   npx tsx bench/train-step/run.ts [--arch unet|hnn] [--threads N] [--reps 5] [--steps 20]
 *                                   [--size 64] [--base 16] [--batch 16] [--python /usr/bin/python3]
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SegNet, engineInfo, setThreads, type Arch } from '../../src/model/binding.js';
import { median, startPeer } from '../lib/peer.js';

const { values: args } = parseArgs({
  options: {
    arch: { type: 'string', default: 'unet' },
    threads: { type: 'string', default: String(availableParallelism()) },
    reps: { type: 'string', default: '5' },
    steps: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    size: { type: 'string', default: '64' },
    base: { type: 'string', default: '16' },
    batch: { type: 'string', default: '16' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const arch = args.arch as Arch;
const [threads, reps, steps, warmup, size, base, batch] = [
  args.threads,
  args.reps,
  args.steps,
  args.warmup,
  args.size,
  args.base,
  args.batch,
].map(Number);

async function main(): Promise<void> {
  setThreads(threads);
  const info = engineInfo();
  const net = await SegNet.create({ arch, inChannels: 1, size, baseWidth: base, seed: 0 });
  const plane = size * size;
  // Same kind of data as the peer: uniform inputs, random binary targets (content does not change the cost).
  const x = new Float32Array(batch * plane).map(() => Math.random());
  const y = new Float32Array(batch * plane).map(() => (Math.random() > 0.5 ? 1 : 0));
  const epochX = new Float32Array(steps * batch * plane).map(() => Math.random());
  const epochY = new Float32Array(steps * batch * plane).map(() => (Math.random() > 0.5 ? 1 : 0));
  for (let i = 0; i < warmup; i++) await net.trainStep({ x, y, n: batch });

  const peer = await startPeer(
    args.python,
    [
      '--arch',
      arch,
      '--steps',
      `${steps}`,
      '--warmup',
      `${warmup}`,
      '--size',
      `${size}`,
      '--base',
      `${base}`,
    ].concat(['--batch', `${batch}`]),
    threads,
  );
  const peerParams = peer.parameterCount;
  if (peerParams !== net.parameterCount()) {
    throw new Error(
      `architectures differ: recist3d ${net.parameterCount()} parameters, PyTorch ${peerParams}`,
    );
  }
  console.log(
    `train-step bench: ${arch} ${size}x${size} base ${base} batch ${batch}, ${net.parameterCount()} parameters, ` +
      `${threads} threads, ${reps} reps x ${steps} steps; libtorch ${info.torchVersion} (recist3d), ${peer.torchVersion} (peer)`,
  );
  const rates = { step: [] as number[], epoch: [] as number[], torch: [] as number[] };
  const recist3dStep = async () => {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await net.trainStep({ x, y, n: batch });
    rates.step.push((steps * batch * 1000) / (performance.now() - t0));
  };
  const recist3dEpoch = async (seed: number) => {
    const t0 = performance.now();
    await net.trainEpoch(
      { x: epochX, y: epochY, n: steps * batch },
      { batchSize: batch, seed, shuffle: false },
    );
    rates.epoch.push((steps * batch * 1000) / (performance.now() - t0));
  };
  for (let r = 0; r < reps; r++) {
    // Alternate the order (ABBA) so a drifting machine load does not favour either engine.
    if (r % 2 === 0) {
      await recist3dStep();
      await recist3dEpoch(r);
      rates.torch.push(await peer.rep());
    } else {
      rates.torch.push(await peer.rep());
      await recist3dEpoch(r);
      await recist3dStep();
    }
  }
  peer.stop();
  net.dispose();

  const m = { step: median(rates.step), epoch: median(rates.epoch), torch: median(rates.torch) };
  const fmt = (v: number[]) => v.map((r) => r.toFixed(1)).join(' ');
  console.log(`recist3d trainStep   ${m.step.toFixed(1).padStart(8)} images/s  (reps: ${fmt(rates.step)})`);
  console.log(`recist3d trainEpoch  ${m.epoch.toFixed(1).padStart(8)} images/s  (reps: ${fmt(rates.epoch)})`);
  console.log(`pytorch              ${m.torch.toFixed(1).padStart(8)} images/s  (reps: ${fmt(rates.torch)})`);
  // Paired ratios (same repetition, adjacent in time) are less sensitive to load changes than ratios of medians.
  const paired = (v: number[]) => median(v.map((r, i) => r / rates.torch[i])).toFixed(3);
  console.log(
    `ratio recist3d/pytorch (of medians): trainStep ${(m.step / m.torch).toFixed(3)}, trainEpoch ${(m.epoch / m.torch).toFixed(3)}`,
  );
  console.log(
    `ratio recist3d/pytorch (median of paired reps): trainStep ${paired(rates.step)}, trainEpoch ${paired(rates.epoch)}`,
  );
  console.log(
    `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(unset)'} for both engines; ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} cores`,
  );
}

await main();
