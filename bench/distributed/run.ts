/**
 * Data-parallel training on this machine: 1 process with T threads (the peer) against W ranks with T/W
 * threads each (c10d ProcessGroupGloo on 127.0.0.1), on the same images, network and global batch. A third
 * setup, W independent processes that train on their shard without any group, is the same compute without
 * communication: the difference to the ranks is the communication share of a step. Rounds alternate the
 * order of the setups (ABC CBA) so that a drifting machine load favours none; prints medians and ratios.
 *
 *   npx tsx bench/distributed/run.ts [--world 2] [--threads 2] [--images 256] [--batch 16] [--reps 3]
 *                                    [--rounds 2] [--arch hnn] [--size 64] [--base 8]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SegNet, allReduceMean, joinFromEnv, type Arch } from '../../src/model/binding.js';
import { freePort } from '../../test/helpers/free-port.js';
import { median } from '../lib/peer.js';

const { values: args } = parseArgs({
  options: {
    role: { type: 'string', default: 'parent' },
    world: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    images: { type: 'string', default: '256' },
    batch: { type: 'string', default: '16' },
    reps: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    arch: { type: 'string', default: 'hnn' },
    size: { type: 'string', default: '64' },
    base: { type: 'string', default: '8' },
    shard: { type: 'string', default: '0/1' },
  },
});
const [world, threads, images, batch, reps, rounds, size, base] = [
  args.world,
  args.threads,
  args.images,
  args.batch,
  args.reps,
  args.rounds,
  args.size,
  args.base,
].map(Number);
const SELF = fileURLToPath(import.meta.url);

/** Seeded images (content does not change the cost): uniform inputs, binary targets. */
function data(n: number): { x: Float32Array; y: Float32Array; n: number } {
  let s = 7;
  const rand = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const px = size * size;
  return {
    x: new Float32Array(n * px).map(() => rand()),
    y: new Float32Array(n * px).map(() => (rand() > 0.5 ? 1 : 0)),
    n,
  };
}

/** One process: joins the group if the environment names one, then times `reps` epochs. */
async function worker(): Promise<void> {
  const group = await joinFromEnv();
  const [part, parts] = args.shard.split('/').map(Number);
  const all = data(images);
  const px = size * size;
  // an independent process (no group) trains on its contiguous share only
  const n = images / parts;
  const mine = {
    x: all.x.subarray(part * n * px, (part + 1) * n * px),
    y: all.y.subarray(part * n * px, (part + 1) * n * px),
    n,
  };
  const net = await SegNet.create({ arch: args.arch as Arch, inChannels: 1, size, baseWidth: base });
  await net.trainEpoch(mine, { batchSize: batch, seed: 99, maxSamples: 2 * batch }); // warm-up
  const seconds: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await net.trainEpoch(mine, { batchSize: batch, seed: r });
    seconds.push((performance.now() - t0) / 1000);
  }
  // the latency of one collective (one value: allReduceMean's JS array conversions would dominate a
  // gradient-sized call, which training does natively, without them)
  const allReduceMs: number[] = [];
  if (group) {
    for (let i = 0; i < 12; i++) {
      const t0 = performance.now();
      await allReduceMean([1]);
      allReduceMs.push(performance.now() - t0);
    }
  }
  process.stdout.write(`${JSON.stringify({ seconds, allReduceMs, parameters: net.parameterCount() })}\n`);
  process.exit(0);
}

interface WorkerResult {
  seconds: number[];
  allReduceMs: number[];
  parameters: number;
}
const allReduce: number[] = [];

function run(extra: string[], env: Record<string, string>): Promise<WorkerResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--role', 'worker', ...extra], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((ok, fail) =>
    child.on('close', (code) =>
      code === 0
        ? ok(JSON.parse(out.trim().split('\n').pop() ?? ''))
        : fail(new Error(`worker exited ${code}`)),
    ),
  );
}

const common = () => [
  ...['--images', `${images}`, '--reps', `${reps}`, '--arch', `${args.arch}`],
  ...['--size', `${size}`, '--base', `${base}`],
];

/** Per repetition, the time of the slowest process (the job's time). */
async function setup(kind: 'single' | 'ranks' | 'independent'): Promise<number[]> {
  const per = Math.max(1, Math.floor(threads / world));
  if (kind === 'single') {
    const r = await run([...common(), '--batch', `${batch}`], { RECIST3D_THREADS: `${threads}` });
    return r.seconds;
  }
  const port = String(await freePort());
  const procs = Array.from({ length: world }, (_, rank) =>
    kind === 'ranks'
      ? run([...common(), '--batch', `${batch}`], {
          RECIST3D_THREADS: `${per}`,
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: port,
          WORLD_SIZE: `${world}`,
          RANK: `${rank}`,
        })
      : run([...common(), '--batch', `${Math.ceil(batch / world)}`, '--shard', `${rank}/${world}`], {
          RECIST3D_THREADS: `${per}`,
        }),
  );
  const results = await Promise.all(procs);
  allReduce.push(...results[0].allReduceMs.slice(2));
  return results[0].seconds.map((_, i) => Math.max(...results.map((r) => r.seconds[i])));
}

async function parent(): Promise<void> {
  console.log(
    `distributed bench: ${args.arch} ${size}x${size} base ${base}, ${images} images per epoch, global batch ${batch}; ` +
      `1 process x ${threads} threads vs ${world} ranks x ${Math.max(1, Math.floor(threads / world))} threads; ` +
      `${rounds} rounds x ${reps} epochs; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  const t = { single: [] as number[], ranks: [] as number[], independent: [] as number[] };
  const order = ['single', 'ranks', 'independent'] as const;
  for (let r = 0; r < rounds; r++) {
    for (const kind of r % 2 === 0 ? order : [...order].reverse()) t[kind].push(...(await setup(kind)));
  }
  const m = { single: median(t.single), ranks: median(t.ranks), independent: median(t.independent) };
  const fmt = (v: number[]) => v.map((s) => s.toFixed(2)).join(' ');
  for (const k of order)
    console.log(
      `${k.padEnd(12)} ${(images / m[k]).toFixed(1).padStart(7)} images/s  median epoch ${m[k].toFixed(2)} s  (epochs: ${fmt(t[k])})`,
    );
  console.log(
    `speed-up of ${world} ranks over 1 process (ratio of medians): ${(m.single / m.ranks).toFixed(3)}`,
  );
  console.log(
    `communication share of the ranks' epoch, 1 - independent/ranks: ${(1 - m.independent / m.ranks).toFixed(3)}`,
  );
  if (allReduce.length)
    console.log(
      `latency of one all-reduce (allReduceMean of 1 value): median ${median(allReduce).toFixed(2)} ms over ${allReduce.length} calls`,
    );
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

void (args.role === 'worker' ? worker() : parent());
