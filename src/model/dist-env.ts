/**
 * Joining a data-parallel job from the environment that PyTorch launchers set: MASTER_ADDR, MASTER_PORT,
 * WORLD_SIZE, RANK and LOCAL_RANK (torchrun, Kubeflow's PyTorchJob, any torch.distributed launcher), or, when
 * WORLD_SIZE and RANK are absent, Slurm's SLURM_NTASKS / SLURM_PROCID / SLURM_LOCALID (srun). Pure: it reads a
 * given environment object and never touches the native engine (process-group.ts joins).
 */
import { Recist3dError } from '../errors.js';

export interface DistEnv {
  /** Host name or address of rank 0, which serves the TCPStore rendezvous. */
  masterAddr: string;
  /** TCP port of the rendezvous on `masterAddr`. */
  masterPort: number;
  /** Number of processes in the job. */
  worldSize: number;
  /** This process's rank, 0 <= rank < worldSize. */
  rank: number;
  /** This process's index among the job's processes on its machine. */
  localRank: number;
  /** Where rank and world size came from. */
  source: 'torch' | 'slurm';
}

type Env = Readonly<Record<string, string | undefined>>;

/** Upper bound on WORLD_SIZE (the native side refuses more). */
export const MAX_WORLD_SIZE = 2 ** 20;

function present(env: Env, name: string): boolean {
  const v = env[name];
  return v !== undefined && v.trim() !== '';
}

function integer(env: Env, name: string, min: number, max: number, why = ''): number {
  const raw = (env[name] ?? '').trim();
  const v = /^[0-9]+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(v >= min && v <= max)) {
    throw new Recist3dError(
      'E_DIST_ENV',
      `${name}=${JSON.stringify(env[name] ?? '')} is not an integer in [${min}, ${max}]${why}`,
      { field: name },
    );
  }
  return v;
}

function required(env: Env, name: string, launcher: string): void {
  if (!present(env, name)) {
    const hint =
      name === 'MASTER_ADDR' || name === 'MASTER_PORT'
        ? ' (export MASTER_ADDR=<host of rank 0> and MASTER_PORT=<free port> before launching; see docs/distributed.md)'
        : '';
    throw new Recist3dError('E_DIST_ENV', `${name} is not set, but ${launcher}${hint}`, { field: name });
  }
}

/**
 * The job this process belongs to, or undefined when the environment names none (then nothing changes: one
 * process, the single-process results). A job is named by WORLD_SIZE or RANK (then MASTER_ADDR, MASTER_PORT,
 * WORLD_SIZE and RANK are all required; LOCAL_RANK defaults to SLURM_LOCALID, else 0), or, without either,
 * by Slurm with SLURM_NTASKS > 1 (rank = SLURM_PROCID, world size = SLURM_NTASKS). Invalid values are
 * E_DIST_ENV naming the variable.
 */
export function readDistEnv(env: Env = process.env): DistEnv | undefined {
  let worldVar: string;
  let rankVar: string;
  let localVar: string;
  let source: DistEnv['source'];
  if (present(env, 'WORLD_SIZE') || present(env, 'RANK')) {
    const launcher = `${present(env, 'WORLD_SIZE') ? 'WORLD_SIZE' : 'RANK'} is (a torch.distributed job)`;
    for (const name of ['WORLD_SIZE', 'RANK', 'MASTER_ADDR', 'MASTER_PORT']) required(env, name, launcher);
    [worldVar, rankVar, localVar, source] = ['WORLD_SIZE', 'RANK', 'LOCAL_RANK', 'torch'];
  } else if (present(env, 'SLURM_NTASKS') && present(env, 'SLURM_PROCID')) {
    if (integer(env, 'SLURM_NTASKS', 1, MAX_WORLD_SIZE) === 1) return undefined; // a one-task step
    const launcher = 'SLURM_NTASKS > 1 (a Slurm job step of several tasks)';
    for (const name of ['MASTER_ADDR', 'MASTER_PORT']) required(env, name, launcher);
    [worldVar, rankVar, localVar, source] = ['SLURM_NTASKS', 'SLURM_PROCID', 'SLURM_LOCALID', 'slurm'];
  } else {
    return undefined;
  }
  const worldSize = integer(env, worldVar, 1, MAX_WORLD_SIZE);
  const rank = integer(env, rankVar, 0, worldSize - 1, ` (${worldVar} is ${worldSize})`);
  const localName = present(env, localVar) ? localVar : present(env, 'SLURM_LOCALID') ? 'SLURM_LOCALID' : '';
  const localRank = localName ? integer(env, localName, 0, worldSize - 1) : 0;
  const masterAddr = (env.MASTER_ADDR ?? '').trim();
  if (/[\s/]/.test(masterAddr)) {
    throw new Recist3dError(
      'E_DIST_ENV',
      `MASTER_ADDR=${JSON.stringify(env.MASTER_ADDR)} is not a host name or address`,
      { field: 'MASTER_ADDR' },
    );
  }
  const masterPort = integer(env, 'MASTER_PORT', 1, 65535);
  return { masterAddr, masterPort, worldSize, rank, localRank, source };
}
