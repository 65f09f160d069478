/**
 * One rank of the data-parallel tests (test/distributed.test.ts), run as a child process with the launcher
 * variables (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, RECIST3D_DIST_TIMEOUT) in its environment. It joins
 * the group, takes its contiguous shard of `distBatch()`, does one trainStep, then one sharded trainEpoch on
 * the whole batch, and prints one JSON line: the parameters after each, the losses and an allReduceMean.
 * A failure prints {code, message} instead and exits 3. With DIST_WORKER_EXIT=1 the rank exits (9) right after
 * joining, as a rank that dies would.
 */
import { SegNet, allReduceMean, engineInfo, joinFromEnv, processGroup } from '../../src/model/binding.js';
import { DIST_NET, distBatch, shardOf } from './dist-batch.js';

function b64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

async function main(): Promise<void> {
  engineInfo(); // loads the addon, so that `seconds` below measures the join and what follows only
  const t0 = performance.now();
  try {
    const group = await joinFromEnv();
    if (!group) throw new Error('the worker was started without a distributed environment');
    // DIST_WORKER_EXIT=1: this rank dies right after joining (the others must fail, not hang)
    if (process.env.DIST_WORKER_EXIT === '1') process.exit(9);
    const net = await SegNet.create(DIST_NET);
    const full = distBatch();
    const step = await net.trainStep(shardOf(full, group.rank, group.worldSize));
    const afterStep = await net.parameters();
    const epoch = await net.trainEpoch(full, {
      batchSize: full.n,
      seed: 5,
      augment: { flip: true, rot90: true },
    });
    const afterEpoch = await net.parameters();
    const mean = await allReduceMean([group.rank, 10 * (group.rank + 1)]);
    process.stdout.write(
      `${JSON.stringify({
        group,
        info: processGroup(),
        stepLoss: step.loss,
        epoch,
        mean,
        afterStep: b64(afterStep),
        afterEpoch: b64(afterEpoch),
      })}\n`,
    );
    process.exit(0);
  } catch (e) {
    const err = e as Error & { code?: string };
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(`${JSON.stringify({ code: err.code, message: err.message, seconds })}\n`);
    process.exit(3);
  }
}

void main();
