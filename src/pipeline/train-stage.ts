/** One training stage of a self-paced round: labels + ROI stacks -> samples -> fit -> checkpoint. */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SegNet, type Arch } from '../model/binding.js';
import { saveCheckpoint } from '../model/checkpoint.js';
import { packSamples, subsetSamples, type Sample, type SampleSet } from '../train/dataset.js';
import { fit, type EpochRecord, type FitOptions, type FitResult } from '../train/fit.js';
import { splitByPatient } from '../train/split.js';
import { inputChannels, inputLayout, stackInput } from './infer.js';
import type { HarvestedLabel } from './label-store.js';
import { stackImage, type LesionStack } from './stack.js';

export interface NetOptions {
  arch?: Arch;
  /** Width of the first level/stage (8: on LIDC as accurate as 16 and 1.6x faster to train; results-3d.md). */
  baseWidth?: number;
  /** Loss: 'bce' (Eq. 1, per image) or 'balanced' (HED). */
  loss?: 'bce' | 'balanced';
  seed?: number;
  /**
   * Add a second input channel with the RECIST prior (the ellipse of the estimated RECIST of each slice).
   * Not in the paper: it tells the network where the RECIST says the lesion is on off-key slices.
   */
  recistPrior?: boolean;
  /**
   * Neighbouring slices on each side given as extra input channels (2.5D): the network sees where the lesion
   * goes above and below the slice it segments. Not in the paper.
   */
  context?: number;
}

export const NET_DEFAULTS = {
  arch: 'hnn',
  baseWidth: 8,
  loss: 'bce',
  seed: 0,
  recistPrior: false,
  context: 0,
} satisfies Required<NetOptions>;

/** Packs labels into a SampleSet (x from the stacks), skipping labels whose lesion or slice is gone. */
export function samplesFromLabels(
  labels: readonly HarvestedLabel[],
  stacks: ReadonlyMap<string, LesionStack>,
  size: number,
  channels = 1,
): SampleSet {
  const samples: Sample[] = [];
  for (const l of labels) {
    const s = stacks.get(l.lesionId);
    const img = s && stackImage(s, l.k);
    if (!s || !img) continue;
    const x = new Float32Array(channels * size * size);
    stackInput(s, l.k, channels, x);
    samples.push({
      x,
      y: Float32Array.from(l.y),
      w: Float32Array.from(l.w),
      lesionId: l.lesionId,
      patientId: s.record.patientId ?? s.record.lesionId,
      offset: l.offset,
    });
  }
  return packSamples(samples, channels, size);
}

export interface TrainStageOptions {
  net?: NetOptions;
  fit?: FitOptions;
  /** Share of patients held out for early stopping. */
  valFraction?: number;
}

export interface TrainStageResult {
  fit: FitResult;
  trainSamples: number;
  valSamples: number;
}

/**
 * Trains `net` (fresh or fine-tuned) on the labels and writes `<checkpointBase>.pt/.json`.
 * The validation split is by patient and scored against the (pseudo) labels, never ground truth.
 */
export async function trainStage(
  net: SegNet,
  labels: readonly HarvestedLabel[],
  stacks: ReadonlyMap<string, LesionStack>,
  checkpointBase: string,
  options: TrainStageOptions = {},
  onEpoch: (e: EpochRecord) => void = () => {},
): Promise<TrainStageResult> {
  await mkdir(dirname(checkpointBase), { recursive: true });
  const all = samplesFromLabels(labels, stacks, net.config.size, net.config.inChannels);
  const seed = options.fit?.seed ?? net.config.seed;
  const split = splitByPatient(all, { valFraction: options.valFraction ?? 0.15, seed });
  const train = subsetSamples(all, split.train);
  const val = split.val.length ? subsetSamples(all, split.val) : undefined;
  const result = await fit(net, train, val, {
    ...options.fit,
    seed,
    bestPath: `${checkpointBase}.best.pt`,
    onEpoch,
  });
  const layout = inputLayout(net.config.inChannels);
  await saveCheckpoint(net, checkpointBase, {
    input: {
      roiScale: 2,
      window: 'record-or-category',
      prior: layout.prior ? 'recist-ellipse' : 'none',
      context: layout.context,
    },
    metrics: {
      bestEpoch: result.bestEpoch,
      bestValDice: result.bestValDice,
      epochs: result.history.length,
      trainSamples: train.n,
      valSamples: val?.n ?? 0,
    },
  });
  return { fit: result, trainSamples: train.n, valSamples: val?.n ?? 0 };
}

/** A new network for ROI stacks of `size` px. */
export function createNet(size: number, options: NetOptions = {}): SegNet {
  const o = { ...NET_DEFAULTS, ...options };
  return SegNet.create({
    arch: o.arch,
    inChannels: inputChannels({ context: o.context, prior: o.recistPrior }),
    size,
    baseWidth: o.baseWidth,
    seed: o.seed,
    loss: o.loss,
  });
}
