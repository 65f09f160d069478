/**
 * The process group of a data-parallel job, on PyTorch's own distributed runtime in the native engine: a
 * c10d TCPStore rendezvous at MASTER_ADDR:MASTER_PORT and a c10d ProcessGroupGloo. Once joined, every
 * SegNet's trainStep/trainEpoch averages its gradients over the ranks before each optimizer step, and
 * `allReduceMean` lets the ranks agree on validation numbers. Without a group nothing changes.
 */
import { Recist3dError } from '../errors.js';
import { readDistEnv, type DistEnv } from './dist-env.js';
import { nativeCall, nativeCallSync, type GroupInfo } from './native.js';

export type { GroupInfo } from './native.js';

export interface JoinOptions {
  /**
   * Seconds to wait for the rendezvous (every rank connected) and, later, for each collective. A rank that
   * never joins or dies makes the others fail with E_DIST_TIMEOUT (or E_DIST) within about this time.
   */
  timeoutSeconds?: number | undefined;
}

export const JOIN_DEFAULTS = {
  timeoutSeconds: 300,
} satisfies Required<JoinOptions>;

/** Environment variable that overrides `timeoutSeconds` for `joinFromEnv`. */
export const TIMEOUT_VARIABLE = 'RECIST3D_DIST_TIMEOUT';

/**
 * Joins the job described by `env` (all ranks must call this; it resolves once all WORLD_SIZE ranks are
 * connected). A job of one rank joins nothing and resolves undefined, so single-process results stay
 * identical. Rejects E_DIST_TIMEOUT naming the rank and the timeout when the others do not come.
 */
export async function joinProcessGroup(
  env: DistEnv,
  options: JoinOptions = {},
): Promise<GroupInfo | undefined> {
  const site = new Error();
  const timeoutSeconds = options.timeoutSeconds ?? JOIN_DEFAULTS.timeoutSeconds;
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 7 * 24 * 3600)) {
    throw new Recist3dError(
      'E_DIST_ENV',
      `The process group timeout must be in (0, 604800] seconds but is ${timeoutSeconds}`,
      { field: 'timeoutSeconds' },
    );
  }
  if (env.worldSize === 1) return undefined;
  await nativeCall('joinProcessGroup', site, (a) =>
    a.initProcessGroup({
      masterAddr: env.masterAddr,
      masterPort: env.masterPort,
      rank: env.rank,
      worldSize: env.worldSize,
      timeoutMs: Math.max(1, Math.round(timeoutSeconds * 1000)),
    }),
  );
  return processGroup();
}

/**
 * Joins the job named by the environment (readDistEnv), with the timeout from RECIST3D_DIST_TIMEOUT
 * (seconds) when set; resolves undefined, joining nothing, when the environment names no job.
 */
export async function joinFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<GroupInfo | undefined> {
  const dist = readDistEnv(env);
  if (!dist) return undefined;
  const raw = env[TIMEOUT_VARIABLE];
  let timeoutSeconds: number | undefined;
  if (raw !== undefined && raw.trim() !== '') {
    timeoutSeconds = Number(raw);
    if (!(timeoutSeconds > 0)) {
      throw new Recist3dError(
        'E_DIST_ENV',
        `${TIMEOUT_VARIABLE}=${JSON.stringify(raw)} is not a positive number of seconds`,
        { field: TIMEOUT_VARIABLE },
      );
    }
  }
  return joinProcessGroup(dist, { timeoutSeconds });
}

/** The group this process joined, or undefined (single process). */
export function processGroup(): GroupInfo | undefined {
  return nativeCallSync('processGroup', (a) => a.processGroupInfo());
}

/** Leaves the group (the other ranks fail at their next collective). */
export function leaveProcessGroup(): void {
  nativeCallSync('leaveProcessGroup', (a) => a.destroyProcessGroup());
}

/** Each value's mean over the ranks of the group (every rank must call it with as many values). */
export async function allReduceMean(values: readonly number[]): Promise<number[]> {
  const site = new Error();
  const out = await nativeCall('allReduceMean', site, (a) => a.allReduceMean(Float64Array.from(values)));
  return Array.from(out);
}
