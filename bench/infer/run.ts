/**
 * Inference time per ROI of the 2D lesion CNNs (issue 5 target: <= 5 ms per 128 px ROI, batched), against
 * PyTorch 1.13 (Debian python3-torch, the same libtorch build) running the same network in its fastest CPU
 * setup (eval, no_grad, channels-last). Repetitions of the two engines alternate (ABBA) so both see the same
 * machine load; prints the median ms per ROI of each and the paired ratio. A benchmark, never a test.
 *
 *   npx tsx bench/infer/run.ts [--size 128] [--batch 64] [--reps 7] [--base 16] [--threads N]
 *                              [--arch hnn,unet] [--python /usr/bin/python3] [--no-peer]
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { SegNet, engineInfo, setThreads, type Arch } from '../../src/model/binding.js';
import { createRng } from '../../src/util/random.js';
import { median, startPeer, type Peer } from '../lib/peer.js';

const { values: args } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    batch: { type: 'string', default: '64' },
    reps: { type: 'string', default: '7' },
    base: { type: 'string', default: '16' },
    threads: { type: 'string', default: String(availableParallelism()) },
    arch: { type: 'string', default: 'hnn,unet' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'no-peer': { type: 'boolean', default: false },
  },
});
const [size, batch, reps, base, threads] = [args.size, args.batch, args.reps, args.base, args.threads].map(
  Number,
);

setThreads(threads);
const info = engineInfo();
process.stdout.write(
  `torch ${info.torchVersion}, ${info.threads} threads, device ${info.device}; ${batch} ROIs of ${size}x${size}, ` +
    `base width ${base}, median of ${reps}, OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY ?? '(unset)'}\n`,
);
const rng = createRng(0);
const x = Float32Array.from({ length: batch * size * size }, () => rng.next());
const fmt = (v: number) => v.toFixed(2);
for (const arch of args.arch.split(',') as Arch[]) {
  const net = await SegNet.create({ arch, inChannels: 1, size, baseWidth: base, seed: 0 });
  let peer: Peer | undefined;
  try {
    if (!args['no-peer']) {
      const peerArgs = ['--mode', 'infer', '--arch', arch, '--size', `${size}`, '--base', `${base}`];
      peer = await startPeer(args.python, [...peerArgs, '--batch', `${batch}`, '--warmup', '1'], threads);
      if (peer.parameterCount !== net.parameterCount()) {
        throw new Error(
          `architectures differ: recist3d ${net.parameterCount()}, PyTorch ${peer.parameterCount}`,
        );
      }
    }
    await net.predict(x, batch, { batchSize: batch });
    const ours: number[] = [];
    const theirs: number[] = [];
    const oneOurs = async () => {
      const t0 = performance.now();
      await net.predict(x, batch, { batchSize: batch });
      ours.push((performance.now() - t0) / batch);
    };
    for (let r = 0; r < reps; r++) {
      if (!peer) await oneOurs();
      else if (r % 2 === 0) {
        await oneOurs();
        theirs.push(await peer.rep());
      } else {
        theirs.push(await peer.rep());
        await oneOurs();
      }
    }
    const m = median(ours);
    let line =
      `${arch.padEnd(5)} ${net.parameterCount().toLocaleString('en-US').padStart(9)} params  recist3d ${fmt(m)} ms/ROI ` +
      `(min ${fmt(Math.min(...ours))}, max ${fmt(Math.max(...ours))}) ${m <= 5 ? 'meets' : 'misses'} the 5 ms target`;
    if (peer) {
      const paired = median(ours.map((v, i) => theirs[i] / v));
      line += `; pytorch ${fmt(median(theirs))} ms/ROI; speed ratio recist3d/pytorch ${paired.toFixed(2)} (paired median)`;
    }
    process.stdout.write(`${line}\n`);
  } finally {
    peer?.stop();
    net.dispose();
  }
}
process.stdout.write(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${availableParallelism()} cores\n`,
);
