/**
 * The lesion shards of a distributed job (docs/distributed.md): which rank handles which lesion, the barrier
 * at each stage boundary, and the small per-rank files through which the ranks hand each other their results
 * in the shared output folder. A lesion belongs to the rank of its image: the manifest's images, in the order
 * they first appear, go round-robin to the ranks (image i to rank i mod WORLD_SIZE), so that every image is
 * read by one rank and every lesion is handled exactly once, the same way on every launch with the same
 * manifest and world size. Without a process group there are no shards (a single process, as before).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import { allReduceMean, processGroup, type GroupInfo } from '../model/binding.js';
import type { LesionRecord } from '../types/recist.js';
import { exists, writeFileAtomic } from '../util/fs.js';

/** How long a rank waits for a file that another rank wrote before the last barrier (shared-FS lag). */
const FILE_WAIT_SECONDS = 30;

/** The lesion sharding of this process in a joined process group. */
export class LesionShards {
  readonly rank: number;
  readonly worldSize: number;
  /** The rank of each record (manifest order). */
  readonly owner: readonly number[];

  constructor(records: readonly LesionRecord[], group: Pick<GroupInfo, 'rank' | 'worldSize'>) {
    this.rank = group.rank;
    this.worldSize = group.worldSize;
    const image = new Map<string, number>();
    this.owner = records.map((r) => {
      if (!image.has(r.imagePath)) image.set(r.imagePath, image.size % group.worldSize);
      return image.get(r.imagePath)!;
    });
  }

  /** Rank 0 writes what belongs to the whole job (markers, checkpoints, lesions.csv, metrics, report). */
  get writer(): boolean {
    return this.rank === 0;
  }

  /** The records of this rank's lesions (manifest order). */
  mine<T extends LesionRecord>(records: readonly T[]): T[] {
    return records.filter((_, i) => this.owner[i] === this.rank);
  }

  /** `<base>.rank<r>-of-<W>`: a per-rank file name. */
  shardBase(base: string, rank = this.rank): string {
    return `${base}.rank${rank}-of-${this.worldSize}`;
  }

  /**
   * The barrier at the end of stage `what`: resolves when every rank got here, with each of `counts` summed
   * over the ranks (every rank must pass as many). A failed all-reduce (a rank died or timed out) names the
   * stage, this rank and the job's ranks.
   */
  async sync(what: string, counts: readonly number[] = []): Promise<number[]> {
    try {
      const mean = await allReduceMean([1, ...counts]);
      return mean.slice(1).map((m) => Math.round(m * this.worldSize));
    } catch (e) {
      const err = e as Recist3dError;
      throw new Recist3dError(
        err.code === 'E_DIST_TIMEOUT' ? 'E_DIST_TIMEOUT' : 'E_DIST',
        `the barrier after stage ${what} failed on rank ${this.rank} (ranks 0-${this.worldSize - 1} in the job): ` +
          `${err.message}`,
        {},
        { cause: e },
      );
    }
  }

  /**
   * Every rank's `value` (rank order): this rank writes `<dir>/<name>.rank<r>-of-<W>.json` (as `encode` makes
   * it, JSON by default), all meet at a barrier, then each reads every rank's file from the shared folder (only
   * rank 0 when `everyRank` is false; the others get []).
   */
  async exchange<T>(
    dir: string,
    name: string,
    value: T,
    {
      everyRank = true,
      encode = (v: T) => JSON.stringify(v),
      decode = (t: string) => JSON.parse(t) as T,
    } = {},
  ): Promise<T[]> {
    await writeFileAtomic(join(dir, `${this.shardBase(name)}.json`), encode(value));
    await this.sync(name);
    if (!everyRank && !this.writer) return [];
    const all: T[] = [];
    for (let r = 0; r < this.worldSize; r++) {
      const path = join(dir, `${this.shardBase(name, r)}.json`);
      await waitForFile(path, r);
      all.push(decode(await readFile(path, 'utf8')));
    }
    return all;
  }
}

/** The shards of `records` when this process joined a group of more than one rank; else undefined. */
export function lesionShards(
  records: readonly LesionRecord[],
  group: GroupInfo | undefined = processGroup(),
): LesionShards | undefined {
  return group && group.worldSize > 1 ? new LesionShards(records, group) : undefined;
}

/**
 * Waits up to FILE_WAIT_SECONDS for a file another rank wrote before a barrier (a shared file system may show
 * a new file late); E_DIST naming the file and the rank when it does not appear: the ranks do not share --out.
 */
export async function waitForFile(path: string, rank: number): Promise<void> {
  const t0 = performance.now();
  while (!(await exists(path))) {
    if (performance.now() - t0 > FILE_WAIT_SECONDS * 1000) {
      throw new Recist3dError(
        'E_DIST',
        `rank ${rank} wrote ${path} before the last barrier, but this rank does not see it after ` +
          `${FILE_WAIT_SECONDS} s: every rank must be given the same --out folder on a file system they share`,
        { file: path },
      );
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
}
