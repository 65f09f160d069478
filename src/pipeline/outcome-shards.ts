/**
 * A distributed `run`'s per-lesion outcomes: each rank segments its own lesions (LesionShards) and hands its
 * outcomes to rank 0 as one file in the shared folder (`work/shards/outcomes.rank<r>-of-<W>.json`); rank 0
 * merges them in manifest order into what a single process would have summarised. The file keeps every number
 * (NaN and infinities included) and the per-slice Dice maps; masks stay in `masks/` (the crop's voxels and the
 * probability maps are not in it: the pooled PR histogram of the rank's maps is).
 */
import { join } from 'node:path';
import { readMask } from '../io/nifti.js';
import { maskFileName } from '../io/mask-file-name.js';
import { PrAccumulator } from '../metrics/pr-curve.js';
import type { LesionRecord } from '../types/recist.js';
import type { LesionShards } from './lesion-shards.js';
import type { LesionOutcome } from './score-cohort.js';

/** What one rank hands over. */
export interface OutcomeShard {
  /** Outcomes of the lesions whose stack was built (segmented, or failed in segmentation). */
  segmented: LesionOutcome[];
  /** Outcomes of the lesions whose stack could not be built. */
  failed: LesionOutcome[];
  pr?: PrAccumulator | undefined;
}

/** JSON that keeps NaN, infinities and Maps, and drops typed arrays (mask voxels, maps). */
function encode(shard: OutcomeShard): string {
  return JSON.stringify({ ...shard, pr: shard.pr?.toJSON() }, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    if (v instanceof Map) return { $map: [...(v as Map<unknown, unknown>).entries()] };
    if (ArrayBuffer.isView(v)) return undefined;
    return v;
  });
}

function decode(text: string): OutcomeShard {
  const raw = JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object') {
      const o = v as { $num?: string; $map?: [unknown, unknown][] };
      if (o.$num !== undefined) return Number(o.$num);
      if (o.$map) return new Map(o.$map);
    }
    return v;
  }) as OutcomeShard & { pr?: { bins: number; pos: number[]; neg: number[] } };
  const voxels = (l: LesionOutcome): LesionOutcome =>
    l.result
      ? {
          ...l,
          result: {
            ...l.result,
            mask: { ...l.result.mask, data: new Uint8Array(0) },
            prob: new Float32Array(0),
          },
        }
      : l;
  return {
    segmented: raw.segmented.map(voxels),
    failed: raw.failed.map(voxels),
    pr: raw.pr ? PrAccumulator.fromJSON(raw.pr) : undefined,
  };
}

/**
 * Hands this rank's outcomes to rank 0 (a barrier for all). On rank 0 resolves every lesion's outcome in the
 * order a single process lists them (built lesions in manifest order, then the failed ones) and the ranks' PR
 * histograms; on the others, undefined.
 */
export async function gatherOutcomes(
  shards: LesionShards,
  workDir: string,
  records: readonly LesionRecord[],
  mine: OutcomeShard,
): Promise<{ lesions: LesionOutcome[]; prs: PrAccumulator[] } | undefined> {
  const all = await shards.exchange(join(workDir, 'shards'), 'outcomes', mine, {
    everyRank: false,
    encode,
    decode,
  });
  if (!shards.writer) return undefined;
  const order = new Map(records.map((r, i) => [r.lesionId, i]));
  const byOrder = (a: LesionOutcome, b: LesionOutcome) =>
    (order.get(a.record.lesionId) ?? 0) - (order.get(b.record.lesionId) ?? 0);
  const segmented = all.flatMap((s) => s.segmented).sort(byOrder);
  const failed = all.flatMap((s) => s.failed).sort(byOrder);
  return {
    lesions: [...segmented, ...failed],
    prs: all.flatMap((s) => (s.pr ? [s.pr] : [])),
  };
}

/** A merged outcome's mask read back from `masks/` (the whole image grid), for the report's gallery. */
export async function withMaskFromFile(outDir: string, l: LesionOutcome): Promise<LesionOutcome> {
  if (!l.result) return l;
  const m = await readMask(join(outDir, 'masks', maskFileName(l.record.lesionId)));
  return { ...l, result: { ...l.result, mask: { start: [0, 0, 0], size: m.size, data: m.data } } };
}
