/**
 * readDistEnv: the mapping from launcher environments (torchrun / Kubeflow PyTorchJob, Slurm srun) to a job,
 * and the E_DIST_ENV errors naming the variable. Pure: no native engine.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Recist3dError } from '../src/errors.js';
import { readDistEnv } from '../src/model/dist-env.js';

const TORCHRUN = {
  MASTER_ADDR: '10.0.0.1',
  MASTER_PORT: '29500',
  WORLD_SIZE: '4',
  RANK: '3',
  LOCAL_RANK: '1',
};

function rejects(env: Record<string, string>, variable: string, pattern?: RegExp): void {
  assert.throws(
    () => readDistEnv(env),
    (e: unknown) => {
      assert.ok(e instanceof Recist3dError, String(e));
      assert.equal(e.code, 'E_DIST_ENV');
      assert.equal(e.context.field, variable);
      assert.match(e.message, new RegExp(variable));
      if (pattern) assert.match(e.message, pattern);
      return true;
    },
  );
}

test('no job variables: undefined (single process)', () => {
  assert.equal(readDistEnv({}), undefined);
  assert.equal(readDistEnv({ PATH: '/usr/bin', MASTER_ADDR: 'x', MASTER_PORT: '1' }), undefined);
  assert.equal(readDistEnv({ WORLD_SIZE: '', RANK: '  ' }), undefined);
});

test('torchrun-style variables map one to one', () => {
  assert.deepEqual(readDistEnv(TORCHRUN), {
    masterAddr: '10.0.0.1',
    masterPort: 29500,
    worldSize: 4,
    rank: 3,
    localRank: 1,
    source: 'torch',
  });
});

test('Kubeflow PyTorchJob (no LOCAL_RANK): local rank 0', () => {
  const env = { MASTER_ADDR: 'job-master-0', MASTER_PORT: '23456', WORLD_SIZE: '3', RANK: '2' };
  assert.deepEqual(readDistEnv(env), {
    masterAddr: 'job-master-0',
    masterPort: 23456,
    worldSize: 3,
    rank: 2,
    localRank: 0,
    source: 'torch',
  });
});

test('Slurm: SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID when WORLD_SIZE and RANK are absent', () => {
  const env = {
    MASTER_ADDR: 'node017',
    MASTER_PORT: '29400',
    SLURM_NTASKS: '8',
    SLURM_PROCID: '5',
    SLURM_LOCALID: '1',
  };
  assert.deepEqual(readDistEnv(env), {
    masterAddr: 'node017',
    masterPort: 29400,
    worldSize: 8,
    rank: 5,
    localRank: 1,
    source: 'slurm',
  });
  // torch variables win over Slurm's when both are set (torchrun inside an srun step)
  const both = readDistEnv({ ...env, WORLD_SIZE: '2', RANK: '0' });
  assert.equal(both?.source, 'torch');
  assert.equal(both?.worldSize, 2);
  assert.equal(both?.rank, 0);
  assert.equal(both?.localRank, 1, 'LOCAL_RANK absent: SLURM_LOCALID');
});

test('Slurm step of one task is a single process even without MASTER_ADDR', () => {
  assert.equal(readDistEnv({ SLURM_NTASKS: '1', SLURM_PROCID: '0' }), undefined);
});

test('missing variables are named', () => {
  const { MASTER_ADDR: _a, ...noAddr } = TORCHRUN;
  rejects(noAddr, 'MASTER_ADDR', /docs\/distributed\.md/);
  const { MASTER_PORT: _p, ...noPort } = TORCHRUN;
  rejects(noPort, 'MASTER_PORT');
  const { RANK: _r, ...noRank } = TORCHRUN;
  rejects(noRank, 'RANK');
  const { WORLD_SIZE: _w, ...noWorld } = TORCHRUN;
  rejects(noWorld, 'WORLD_SIZE');
  rejects({ SLURM_NTASKS: '2', SLURM_PROCID: '1' }, 'MASTER_ADDR', /SLURM_NTASKS/);
});

test('invalid values are named with the value', () => {
  rejects({ ...TORCHRUN, MASTER_PORT: '70000' }, 'MASTER_PORT', /"70000"/);
  rejects({ ...TORCHRUN, MASTER_PORT: 'http' }, 'MASTER_PORT');
  rejects({ ...TORCHRUN, WORLD_SIZE: '0' }, 'WORLD_SIZE');
  rejects({ ...TORCHRUN, WORLD_SIZE: '2.5' }, 'WORLD_SIZE');
  rejects({ ...TORCHRUN, RANK: '4' }, 'RANK', /WORLD_SIZE is 4/);
  rejects({ ...TORCHRUN, RANK: '-1' }, 'RANK');
  rejects({ ...TORCHRUN, LOCAL_RANK: 'x' }, 'LOCAL_RANK');
  rejects({ ...TORCHRUN, MASTER_ADDR: 'tcp://host' }, 'MASTER_ADDR');
  rejects(
    { MASTER_ADDR: 'a', MASTER_PORT: '1', SLURM_NTASKS: '2', SLURM_PROCID: '2' },
    'SLURM_PROCID',
    /SLURM_NTASKS is 2/,
  );
});
