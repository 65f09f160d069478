/**
 * Shared pieces of the benchmarks that compare recist3d's native engine with PyTorch (Debian python3-torch,
 * the same libtorch build): the line-oriented peer process of bench/train-step/peer.py and the median.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export interface Peer {
  /** The peer's `ready <parameterCount> torch=<version>` line. */
  ready: string;
  parameterCount: number;
  torchVersion: string;
  /** One measured repetition (the number the peer prints for it). */
  rep: () => Promise<number>;
  stop: () => void;
}

/** Starts `python peer.py ...args` with `threads` OpenMP threads and waits until it has built its model. */
export async function startPeer(python: string, args: string[], threads: number): Promise<Peer> {
  const peerPy = join(dirname(fileURLToPath(import.meta.url)), '..', 'train-step', 'peer.py');
  const child = spawn(python, [peerPy, '--threads', `${threads}`, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, OMP_NUM_THREADS: `${threads}` },
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done)
      throw new Error(`${python} peer.py exited (code ${child.exitCode}); is python3-torch installed?`);
    return r.value;
  };
  const ready = await next();
  const [, count, version] = ready.split(' ');
  return {
    ready,
    parameterCount: Number(count),
    torchVersion: version,
    rep: async () => {
      child.stdin.write('rep\n');
      return Number(await next());
    },
    stop: () => child.stdin.end(),
  };
}
