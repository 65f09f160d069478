/**
 * The output folder of `run` and `train`, which may be one rank of a distributed job (docs/distributed.md):
 * joins the job the environment names, then rank 0 takes the folder's lock (and clears it for --force) while the
 * other ranks only check it, and all ranks prove that they see the same folder (rank 0 writes a token that
 * every rank must read back) before any work. Without a job: claimOutDir, as before.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import { allReduceMean, joinFromEnv, type GroupInfo } from '../model/binding.js';
import { LesionShards, waitForFile } from '../pipeline/lesion-shards.js';
import { writeJsonAtomic } from '../util/fs.js';
import { claimOutDir, prepareOutDir, type OutDir } from '../util/out-dir.js';

export interface JobOut {
  outDir: OutDir;
  /** The joined group (undefined: a single process). */
  group: GroupInfo | undefined;
}

/** Joins the job (if any) and claims `--out` for it; `force` clears the folder first (rank 0). */
export async function claimJobOut(path: string, command: string, force: boolean): Promise<JobOut> {
  const group = await joinFromEnv();
  if (!group) {
    const outDir = await claimOutDir(path, { command });
    if (force) await outDir.clear();
    return { outDir, group };
  }
  process.stderr.write(
    `recist3d: rank ${group.rank} of ${group.worldSize} joined (${group.backend}); lesions are sharded over ` +
      `the ranks, gradients averaged, and rank 0 writes the job's outputs into the shared --out\n`,
  );
  const shards = new LesionShards([], group);
  let outDir: OutDir;
  if (shards.writer) {
    outDir = await claimOutDir(path, { command: `${command} (rank 0 of ${group.worldSize})` });
    if (force) await outDir.clear();
  } else {
    const abs = await prepareOutDir(path);
    outDir = {
      path: abs,
      clear: async () => {},
      release: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
  }
  // rank 0 draws the token; the all-reduce hands it to every rank (the others add 0)
  const token = shards.writer ? 1 + Math.floor(Math.random() * 2 ** 30) : 0;
  const [mean] = await allReduceMean([token]);
  const shared = Math.round(mean * group.worldSize);
  const file = join(outDir.path, 'work', 'shards', 'job.json');
  if (shards.writer) await writeJsonAtomic(file, { token: shared, worldSize: group.worldSize });
  await shards.sync('claiming --out');
  await waitForFile(file, 0);
  const seen = (JSON.parse(await readFile(file, 'utf8')) as { token?: number }).token;
  const ok = await shards.sync('checking --out', [seen === shared ? 0 : 1]);
  if (seen !== shared || ok[0] > 0) {
    throw new Recist3dError(
      'E_DIST',
      `--out ${outDir.path}: ${ok[0]} rank(s) (this one ${seen === shared ? 'not' : 'included'}) do not see the ` +
        `folder that rank 0 claimed: every rank must be given the same --out on a file system they share`,
      { field: '--out', file: outDir.path },
    );
  }
  return { outDir, group };
}
