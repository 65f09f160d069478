/**
 * The launch examples of docs/distributed.md, checked offline: the Kubeflow PyTorchJob manifest parses and runs
 * `run` with one shared --out on a Master and Workers; the environments that the torchrun-style, Slurm and
 * PyTorchJob examples produce map (readDistEnv) to the expected rank and world size.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { readDistEnv } from '../src/model/dist-env.js';

const DOC = readFileSync(
  resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'distributed.md'),
  'utf8',
);

function blocks(lang: string): string[] {
  return [...DOC.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
}

/** NAME=value pairs of the `export` lines of a shell block (values without $ only). */
function exported(block: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of block.split('\n').filter((l) => l.startsWith('export '))) {
    for (const m of line.matchAll(/([A-Z_0-9]+)=([^\s$]+)(?=\s|$)/g)) env[m[1]] = m[2];
  }
  return env;
}

interface Replica {
  replicas: number;
  template: {
    spec: { containers: { command: string[]; args: string[]; env: { name: string; value: string }[] }[] };
  };
}

test('the PyTorchJob manifest parses: a Master and Workers running run into one shared --out', () => {
  const yaml = blocks('yaml');
  assert.equal(yaml.length, 1);
  const job = load(yaml[0]) as {
    apiVersion: string;
    kind: string;
    spec: { pytorchReplicaSpecs: { Master: Replica; Worker: Replica } };
  };
  assert.equal(job.kind, 'PyTorchJob');
  assert.match(job.apiVersion, /^kubeflow\.org\//);
  const { Master, Worker } = job.spec.pytorchReplicaSpecs;
  assert.equal(Master.replicas, 1, 'the master is rank 0, alone');
  assert.ok(Worker.replicas >= 1);
  const outs = new Set<string>();
  for (const r of [Master, Worker]) {
    const c = r.template.spec.containers[0];
    const cmd = [...c.command, ...c.args].join(' ');
    const out = / run .*--out (\S+)/.exec(cmd)?.[1];
    assert.ok(out && !out.includes('$'), `one --out for every rank: ${cmd}`);
    outs.add(out);
    assert.ok(
      c.env.every((e) => typeof e.value === 'string'),
      'env values must be strings',
    );
  }
  assert.equal(outs.size, 1, 'the Master and the Workers share --out');
  // what the operator sets in the third replica
  const env = {
    MASTER_ADDR: 'recist3d-train-master-0',
    MASTER_PORT: '23456',
    WORLD_SIZE: String(Master.replicas + Worker.replicas),
    RANK: '2',
  };
  assert.deepEqual(readDistEnv(env), {
    masterAddr: 'recist3d-train-master-0',
    masterPort: 23456,
    worldSize: 4,
    rank: 2,
    localRank: 0,
    source: 'torch',
  });
});

test('the torchrun-style and Slurm examples map to the expected rank and world size', () => {
  const sh = blocks('sh');
  const byHand = sh.find((b) => b.includes('for r in'));
  assert.ok(byHand);
  const env = exported(byHand);
  assert.equal(env.WORLD_SIZE, '2');
  const job = readDistEnv({ ...env, RANK: '1', LOCAL_RANK: '1' });
  assert.equal(job?.rank, 1);
  assert.equal(job?.worldSize, 2);
  assert.equal(job?.masterPort, 29500);

  const torchrun = sh.find((b) => b.includes('torchrun'));
  assert.ok(torchrun && /--nproc-per-node=2/.test(torchrun) && /--no-python/.test(torchrun));

  const slurm = sh.find((b) => b.includes('#SBATCH'));
  assert.ok(slurm);
  const nodes = Number(/--nodes=(\d+)/.exec(slurm)?.[1]);
  const perNode = Number(/--ntasks-per-node=(\d+)/.exec(slurm)?.[1]);
  assert.match(slurm, /export MASTER_ADDR=\$\(scontrol show hostnames/);
  assert.match(slurm, / run .*--out \/shared\/runs\/cohort'/);
  // what srun sets in the last task (no WORLD_SIZE / RANK: the Slurm variables are mapped)
  const task = readDistEnv({
    ...exported(slurm),
    MASTER_ADDR: 'node001',
    SLURM_NTASKS: String(nodes * perNode),
    SLURM_PROCID: String(nodes * perNode - 1),
    SLURM_LOCALID: String(perNode - 1),
  });
  assert.deepEqual(task, {
    masterAddr: 'node001',
    masterPort: 29500,
    worldSize: 4,
    rank: 3,
    localRank: 1,
    source: 'slurm',
  });
});
