/**
 * `recist3d run` on this machine: 1 process with T threads (the peer) against W ranks with T/W threads each
 * (c10d Gloo on 127.0.0.1, one shared --out), on a phantom cohort (`synth --lesions N`) or a manifest. Every
 * repetition starts from an empty folder; rounds alternate the order of the two setups (AB BA). Prints the
 * median time of each stage (rank 0's clock for the ranks: stacks, labels and harvests are its shard, training
 * is the whole job's), the total, the speed-up and the scaling efficiency (speed-up / W at the same cores), with
 * the load average before and after. Training's communication share is bench/distributed/run.ts's job.
 *
 *   npx tsx bench/distributed/run-stages.ts [--lesions 200] [--manifest m.csv] [--world 2] [--threads 2]
 *        [--reps 1] [--rounds 1] [-- extra run options, e.g. --rounds 1 --epochs 8]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../../test/helpers/free-port.js';
import { median } from '../lib/peer.js';
import { CLI, ROOT } from '../../test/helpers/spawn-cli.js';

const { values: args, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    lesions: { type: 'string', default: '200' },
    manifest: { type: 'string' },
    world: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '1' },
    seed: { type: 'string', default: '1' },
  },
});
const [world, threads, reps, rounds] = [args.world, args.threads, args.reps, args.rounds].map(Number);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function cli(cmd: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [...CLI, ...cmd], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((ok, fail) =>
    child.on('close', (code) =>
      code === 0 ? ok(out) : fail(new Error(`${cmd[0]} exited ${code}:\n${err.slice(-2000)}`)),
    ),
  );
}

interface Timing {
  stages: Record<string, number>;
  total: number;
  /** Training labels and epochs of each round (the work that training did). */
  rounds: string;
}

async function timing(out: string, wall: number): Promise<Timing> {
  const m = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as {
    stageSeconds: Record<string, number>;
    rounds: { round: number; labels: number; epochs: number }[];
  };
  const rounds = m.rounds.map((r) => `r${r.round}: ${r.labels} labels, ${r.epochs} epochs`).join('; ');
  return { stages: m.stageSeconds, total: wall, rounds };
}

async function once(kind: 'single' | 'ranks', manifest: string, dir: string): Promise<Timing> {
  const out = join(dir, kind);
  await rm(out, { recursive: true, force: true });
  const runArgs = ['run', '--manifest', manifest, '--out', out, '--no-report', ...positionals];
  const t0 = performance.now();
  if (kind === 'single') {
    await cli(runArgs, { RECIST3D_THREADS: `${threads}` });
  } else {
    const port = String(await freePort());
    const per = `${Math.max(1, Math.floor(threads / world))}`;
    await Promise.all(
      Array.from({ length: world }, (_, r) =>
        cli(runArgs, {
          RECIST3D_THREADS: per,
          MASTER_ADDR: '127.0.0.1',
          MASTER_PORT: port,
          WORLD_SIZE: `${world}`,
          RANK: `${r}`,
          LOCAL_RANK: `${r}`,
          RECIST3D_DIST_TIMEOUT: '600',
        }),
      ),
    );
  }
  return timing(out, (performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'r3d-bench-dist-run-'));
  try {
    let manifest = args.manifest ? resolve(args.manifest) : '';
    if (!manifest) {
      await cli(['synth', '--out', join(dir, 'ph'), '--lesions', args.lesions, '--seed', args.seed], {});
      manifest = join(dir, 'ph', 'manifest.csv');
    }
    console.log(
      `distributed run bench: ${args.manifest ?? `synth --lesions ${args.lesions}`}; 1 process x ${threads} threads vs ` +
        `${world} ranks x ${Math.max(1, Math.floor(threads / world))} threads; ${rounds} round(s) x ${reps} rep(s); ` +
        `run options: ${positionals.join(' ') || '(defaults)'}; load average before ${load()}`,
    );
    const t: Record<'single' | 'ranks', Timing[]> = { single: [], ranks: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['single', 'ranks'] as const) : (['ranks', 'single'] as const);
      for (const kind of order)
        for (let i = 0; i < reps; i++) {
          const x = await once(kind, manifest, dir);
          t[kind].push(x);
          console.log(`  ${kind}: ${x.total.toFixed(1)} s (${x.rounds}; load ${load()})`);
        }
    }
    const stages = [...new Set([...t.single, ...t.ranks].flatMap((x) => Object.keys(x.stages)))];
    const med = (kind: 'single' | 'ranks', s: string) => median(t[kind].map((x) => x.stages[s] ?? 0));
    console.log(`\n| stage | 1 process x ${threads} (s) | ${world} ranks, rank 0 (s) | ratio |`);
    console.log('| --- | --- | --- | --- |');
    for (const s of stages)
      console.log(
        `| ${s} | ${med('single', s).toFixed(1)} | ${med('ranks', s).toFixed(1)} | ${(med('single', s) / med('ranks', s)).toFixed(2)} |`,
      );
    const [ts, tr] = [median(t.single.map((x) => x.total)), median(t.ranks.map((x) => x.total))];
    console.log(
      `| total (wall, with start-up) | ${ts.toFixed(1)} | ${tr.toFixed(1)} | ${(ts / tr).toFixed(2)} |`,
    );
    console.log(
      `\nspeed-up of ${world} ranks over 1 process (same ${threads} cores): ${(ts / tr).toFixed(3)}; ` +
        `scaling efficiency at equal cores (speed-up): ${(ts / tr).toFixed(3)}; load average after ${load()}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

void main();
