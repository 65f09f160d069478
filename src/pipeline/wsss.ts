/**
 * The WSSS main job (paper Algorithm 1): ROI stacks -> round-0 labels (GrabCut-R on the key slices) ->
 * train -> for k = 1..K: harvest slices r-k..r+k with the previous model, fine-tune -> final 3D masks.
 * Every stage writes its artifacts atomically and a done-marker keyed by its options, so a run killed at any
 * point resumes at the last finished stage and a rerun with the same seed gives the same masks.
 */
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import { summarizeFailures } from '../util/failure-summary.js';
import type { SegNet } from '../model/binding.js';
import type { LesionRecord } from '../types/recist.js';
import type { EpochRecord, FitOptions } from '../train/fit.js';
import { markStageDone, readJson, stageDone, stageKey, type StageMarker } from './artifacts.js';
import {
  harvestRound,
  initialLabels,
  type HarvestOptions,
  type HarvestStats,
  type InitialLabels,
} from './harvest.js';
import { loadLabels, saveLabels, type HarvestedLabel } from './label-store.js';
import { buildStacks, type LesionStack, type StackOptions } from './stack.js';
import { createNet, trainStage, type NetOptions } from './train-stage.js';
import { resumeRefused, verifyCheckpoint } from '../model/checkpoint.js';

export interface WsssOptions {
  /** Self-paced rounds K (WSSS-3/5/7 = 1/2/3); 0 = the RECIST-slice model only. */
  rounds?: number;
  /** Round-0 labels: GrabCut-R masks, the RECIST trimap (uncertain ignored) or the ground truth. */
  labels?: InitialLabels;
  stack?: StackOptions;
  net?: NetOptions;
  /** Training of round 0. */
  fit?: FitOptions;
  /** Fine-tuning in rounds >= 1 (merged over `fit`). */
  fineTune?: FitOptions;
  harvest?: HarvestOptions;
  /** Train only on lesions of these splits (default: every lesion; training uses RECIST marks only). */
  trainSplits?: string[];
  seed?: number;
}

export const WSSS_DEFAULTS = {
  rounds: 2,
  labels: 'grabcut-r',
  stack: {} as StackOptions,
  net: {} as NetOptions,
  fit: { maxEpochs: 40, learningRate: 1e-3 },
  // maxSamplesPerEpoch 0: every harvested slice in every fine-tuning epoch. On LIDC a cap of 1,536 cut the
  // run from 572 to 464 s but also 3D Dice from 0.782 to 0.774 (docs/results-3d.md); `--fine-tune-samples`.
  fineTune: {
    maxEpochs: 12,
    learningRate: 3e-4,
    minEpochs: 3,
    stopPatience: 4,
    lrPatience: 3,
    maxSamplesPerEpoch: 0,
  },
  harvest: {} as HarvestOptions,
  trainSplits: [] as string[],
  seed: 0,
} satisfies Required<WsssOptions>;

/** Progress and log hooks of the orchestrator (the CLI turns them into bars and lines). */
export interface WsssHooks {
  stage?: (name: string, total: number) => void;
  tick?: (done: number, status?: string) => void;
  stageEnd?: (name: string, seconds: number, info?: Record<string, unknown>) => void;
  epoch?: (round: number, e: EpochRecord) => void;
}

export interface RoundInfo {
  round: number;
  labels: number;
  harvest?: HarvestStats;
  epochs: number;
  bestValDice: number;
  resumed: boolean;
}

export interface WsssResult {
  net: SegNet;
  stacks: LesionStack[];
  failures: { record: LesionRecord; error: Recist3dError }[];
  rounds: RoundInfo[];
  /** Labels used in the last training round, per lesion id (for QC: fallback counts). */
  labelSources: Map<string, string[]>;
  stageSeconds: Record<string, number>;
}

/** Trains the self-paced model for `records`, writing artifacts under `outDir` (work/ and model/). */
export async function trainWsss(
  records: readonly LesionRecord[],
  outDir: string,
  options: WsssOptions = {},
  hooks: WsssHooks = {},
  truthKey: (s: LesionStack) => Uint8Array | undefined = () => undefined,
): Promise<WsssResult> {
  const o = { ...WSSS_DEFAULTS, ...options };
  const seed = o.seed;
  const netOpts: NetOptions = { ...o.net, seed: o.net.seed ?? seed };
  const work = join(outDir, 'work');
  const modelDir = join(outDir, 'model');
  const stageSeconds: Record<string, number> = {};
  const timed = async <T>(
    name: string,
    total: number,
    fn: () => Promise<T>,
    info?: (r: T) => Record<string, unknown>,
  ) => {
    hooks.stage?.(name, total);
    const t0 = performance.now();
    const r = await fn();
    const s = (performance.now() - t0) / 1000;
    stageSeconds[name] = (stageSeconds[name] ?? 0) + s;
    hooks.stageEnd?.(name, s, info?.(r));
    return r;
  };

  const built = await timed('stacks', records.length, () =>
    buildStacks(records, o.stack, (d) => hooks.tick?.(d)),
  );
  const stacks = built.flatMap((r) => (r.ok ? [r.stack] : []));
  const failures = built.flatMap((r) => (r.ok ? [] : [{ record: r.record, error: r.error }]));
  const byId = new Map(stacks.map((s) => [s.record.lesionId, s]));
  const trainable = o.trainSplits.length
    ? stacks.filter((s) => o.trainSplits.includes(s.record.split ?? ''))
    : stacks;
  if (trainable.length === 0)
    throw new Recist3dError(
      'E_PIPELINE',
      stacks.length === 0
        ? `No lesion left to train on: all ${records.length} lesion(s) failed before training (${summarizeFailures(failures)})`
        : `No lesion left to train on: none of the ${stacks.length} usable lesion(s) is in the training splits ${o.trainSplits.join(', ')}`,
    );
  const size = stacks[0]?.keyRoi.geometry.sizePx ?? o.stack.roiSize ?? 64;
  const cohortKey = stageKey(
    trainable.map((s) => [s.record.lesionId, s.record.imagePath, s.record.keySlice, s.record.recist]),
  );

  // round 0 labels
  let chainKey = stageKey({ cohortKey, labels: o.labels, stack: o.stack, harvest: o.harvest, seed });
  const labels0Base = join(work, 'labels-r0');
  let labels0: HarvestedLabel[];
  if (await stageDone(join(work, '.done-labels-r0.json'), chainKey)) {
    labels0 = (await loadLabels(labels0Base)).labels;
  } else {
    labels0 = await timed('labels-r0', trainable.length, () =>
      initialLabels(trainable, o.labels, truthKey, o.harvest),
    );
    if (labels0.length === 0) {
      const noMask = trainable.filter((s) => !s.record.maskPath).length;
      throw new Recist3dError(
        'E_PIPELINE',
        `No lesion left to train on: --labels ${o.labels} gave no training label for the ${trainable.length} usable lesion(s)` +
          (o.labels === 'full'
            ? `; it needs a readable reference mask in the manifest's mask column (${noMask} of them have none, ` +
              `${trainable.length - noMask} could not be read)`
            : ''),
      );
    }
    await saveLabels(labels0Base, size, labels0);
    await markStageDone(join(work, '.done-labels-r0.json'), 'labels-r0', chainKey, {
      labels: labels0.length,
    });
  }

  const net = createNet(size, netOpts);
  const rounds: RoundInfo[] = [];
  let current = labels0;
  try {
    for (let round = 0; round <= o.rounds; round++) {
      let harvest: HarvestStats | undefined;
      if (round > 0) {
        const hKey = stageKey({ chainKey, round, what: 'harvest' });
        const base = join(work, `labels-r${round}`);
        const hMarker = join(work, `.done-labels-r${round}.json`);
        if (await stageDone(hMarker, hKey)) {
          current = [...labels0, ...(await loadLabels(base)).labels];
          harvest = (await readJson<StageMarker>(hMarker)).info as unknown as HarvestStats;
        } else {
          const h = await timed(`harvest-r${round}`, trainable.length, () =>
            harvestRound(net, trainable, round, o.harvest),
          );
          harvest = h.stats;
          await saveLabels(base, size, h.labels);
          await markStageDone(hMarker, `labels-r${round}`, hKey, {
            ...h.stats,
          });
          current = [...labels0, ...h.labels];
        }
        chainKey = hKey;
      }
      const fitOpts = round === 0 ? o.fit : { ...o.fit, ...o.fineTune };
      const tKey = stageKey({ chainKey, round, net: netOpts, fit: fitOpts, what: 'train' });
      const ckpt = join(modelDir, `round${round}`);
      const marker = join(work, `.done-train-r${round}.json`);
      if (await stageDone(marker, tKey)) {
        await verifyCheckpoint(ckpt).catch(resumeRefused);
        await net.load(`${ckpt}.pt`);
        // the finished stage's marker still knows how it went
        const info = (await readJson<StageMarker>(marker)).info as { epochs?: number; bestValDice?: number };
        rounds.push({
          round,
          labels: current.length,
          harvest,
          epochs: info.epochs ?? 0,
          bestValDice: info.bestValDice ?? Number.NaN,
          resumed: true,
        });
      } else {
        const maxEpochs = fitOpts.maxEpochs ?? 40;
        const r = await timed(`train-r${round}`, maxEpochs, () =>
          trainStage(net, current, byId, ckpt, { fit: { ...fitOpts, seed: seed + round } }, (e) => {
            hooks.tick?.(e.epoch, `loss ${e.trainLoss.toFixed(4)} val Dice ${e.valDice.toFixed(3)}`);
            hooks.epoch?.(round, e);
          }),
        );
        await markStageDone(marker, `train-r${round}`, tKey, {
          epochs: r.fit.history.length,
          bestEpoch: r.fit.bestEpoch,
          bestValDice: r.fit.bestValDice,
        });
        rounds.push({
          round,
          labels: current.length,
          harvest,
          epochs: r.fit.history.length,
          bestValDice: r.fit.bestValDice,
          resumed: false,
        });
      }
      chainKey = tKey;
    }
  } catch (e) {
    net.dispose();
    throw e;
  }
  const labelSources = new Map<string, string[]>();
  for (const l of current) labelSources.set(l.lesionId, [...(labelSources.get(l.lesionId) ?? []), l.source]);
  return { net, stacks, failures, rounds, labelSources, stageSeconds };
}
