/**
 * Step 3 of WSSS (paper section 3.2; Algorithm 1, lines 4 and 13): training the lesion CNN (HNN with deep
 * supervision, or UNet) on the labels of a round: labels + ROI stacks -> samples -> fit (Adam, LR drop on a
 * plateau, early stopping on a patient split scored against the labels) -> checkpoint with its sidecar.
 * Round 0 trains from scratch; each self-paced round fine-tunes the previous round's network.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Recist3dError } from '../errors.js';
import { SegNet, type Arch } from '../model/binding.js';
import { readSidecar, saveCheckpoint, verifyWeights, type CheckpointInput } from '../model/checkpoint.js';
import { packSamples, subsetSamples, type Sample, type SampleSet } from '../train/dataset.js';
import { fit, type EpochRecord, type FitOptions, type FitResult } from '../train/fit.js';
import { splitByPatient } from '../train/split.js';
import { inputChannels, inputLayoutOf, netLayout, stackInput, type InputLayout } from '../model/infer.js';
import { stackImage, type LesionStack } from '../types/stack.js';
import type { HarvestedLabel } from '../types/label.js';
import { exists } from '../util/fs.js';
import { resolveOptions } from '../util/options.js';

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

/**
 * Packs labels into a SampleSet (x from the stacks, or the label's own `x` where it carries one), skipping
 * labels whose lesion or slice is gone. `patients` names the patient of a lesion whose stack is not in `stacks`.
 */
export function samplesFromLabels(
  labels: readonly HarvestedLabel[],
  stacks: ReadonlyMap<string, LesionStack>,
  size: number,
  layout: InputLayout,
  patients: ReadonlyMap<string, string> = new Map(),
): SampleSet {
  const samples: Sample[] = [];
  for (const l of labels) {
    const s = stacks.get(l.lesionId);
    let x: Float32Array;
    if (l.x && !s) {
      x = l.x;
    } else {
      const img = s && stackImage(s, l.k);
      if (!s || !img) continue;
      x = new Float32Array(inputChannels(layout) * size * size);
      stackInput(s, l.k, layout, x);
    }
    const patientId = s ? (s.record.patientId ?? s.record.lesionId) : patients.get(l.lesionId);
    if (patientId === undefined) {
      throw new Recist3dError(
        'E_PIPELINE',
        `A training label of lesion ${l.lesionId} has no ROI stack and no known patient`,
        { lesionId: l.lesionId },
      );
    }
    samples.push({
      x,
      y: Float32Array.from(l.y),
      w: Float32Array.from(l.w),
      lesionId: l.lesionId,
      patientId,
      offset: l.offset,
    });
  }
  return packSamples(samples, inputChannels(layout), size);
}

export interface TrainStageOptions {
  /** The training loop (its seed seeds the patient split, shuffling and augmentation). */
  fit?: FitOptions;
  /** Share of patients held out for early stopping. */
  valFraction?: number;
  /** How the inputs were made, recorded in the checkpoint sidecar. */
  input: CheckpointInput;
  /**
   * Tag of this training (the stage key). With it, weights, optimizer and history are written to
   * `<checkpointBase>.last.pt/.json` after every epoch, and a rerun with the same tag resumes after the last
   * finished epoch with the same result as an uninterrupted run (same per-epoch seeds, replayed schedule).
   */
  resumeKey?: string;
  /** More provenance for the sidecar. */
  extra?: Record<string, unknown>;
  /** Patient of each lesion whose labels carry their input (`x`) instead of having a stack here. */
  patients?: ReadonlyMap<string, string>;
  /**
   * This process writes the checkpoints (default). A distributed job's other ranks do not: they resume from
   * and restore the best weights of the files that rank 0 writes into the shared folder.
   */
  writer?: boolean;
}

export const TRAIN_STAGE_DEFAULTS = {
  valFraction: 0.15,
} satisfies Required<Pick<TrainStageOptions, 'valFraction'>>;

export interface TrainStageResult {
  fit: FitResult;
  trainSamples: number;
  valSamples: number;
  /** Epochs taken over from an interrupted run (0 when it started afresh). */
  resumedEpochs: number;
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
  options: TrainStageOptions,
  onEpoch: (e: EpochRecord) => void = () => {},
): Promise<TrainStageResult> {
  const o = { valFraction: options.valFraction ?? TRAIN_STAGE_DEFAULTS.valFraction, fit: options.fit ?? {} };
  await mkdir(dirname(checkpointBase), { recursive: true });
  const writer = options.writer ?? true;
  const layout = netLayout(net, inputLayoutOf(options.input));
  const all = samplesFromLabels(labels, stacks, net.config.size, layout, options.patients);
  const seed = o.fit.seed ?? net.config.seed;
  const split = splitByPatient(all, { valFraction: o.valFraction, seed });
  const train = subsetSamples(all, split.train);
  const val = split.val.length ? subsetSamples(all, split.val) : undefined;
  const last = `${checkpointBase}.last`;
  const resumeHistory = options.resumeKey ? await resumePoint(net, last, options.resumeKey) : [];
  const history = [...resumeHistory];
  const extra = { ...options.extra, ...(options.resumeKey ? { resumeKey: options.resumeKey } : {}) };
  const result = await fit(net, train, val, {
    ...o.fit,
    seed,
    bestPath: `${checkpointBase}.best.pt`,
    saveBest: writer,
    resumeHistory,
    onEpoch: async (e) => {
      history.push(e);
      if (options.resumeKey && writer)
        await saveCheckpoint(net, last, { input: options.input, metrics: { history }, extra });
      onEpoch(e);
    },
  });
  const metrics = {
    bestEpoch: result.bestEpoch,
    bestValDice: result.bestValDice,
    epochs: result.history.length,
    stoppedEarly: result.stoppedEarly,
    trainSamples: train.n,
    valSamples: val?.n ?? 0,
    history: result.history,
  };
  if (writer) await saveCheckpoint(net, checkpointBase, { input: options.input, metrics, extra });
  return { fit: result, trainSamples: train.n, valSamples: val?.n ?? 0, resumedEpochs: resumeHistory.length };
}

/**
 * Loads `<last>.pt` and returns its epochs when its sidecar carries `resumeKey` and its weights verify; else []
 * (a fresh start: the per-epoch checkpoint is only a shortcut, never a result).
 */
async function resumePoint(net: SegNet, last: string, resumeKey: string): Promise<EpochRecord[]> {
  if (!(await exists(`${last}.json`)) || !(await exists(`${last}.pt`))) return [];
  const side = await readSidecar(last).catch(() => undefined);
  if (side?.provenance.resumeKey !== resumeKey) return [];
  if (
    !(await verifyWeights(`${last}.pt`, side).then(
      () => true,
      () => false,
    ))
  )
    return [];
  await net.load(`${last}.pt`);
  return (side.metrics.history ?? []) as EpochRecord[];
}

/** A new network for ROI stacks of `size` px (`sr`: with the two HNN-SR channels). */
export async function createNet(size: number, options: NetOptions = {}, sr = false): Promise<SegNet> {
  const o = resolveOptions(NET_DEFAULTS, options);
  return await SegNet.create({
    arch: o.arch,
    inChannels: inputChannels({ context: o.context, sr, prior: o.recistPrior }),
    size,
    baseWidth: o.baseWidth,
    seed: o.seed,
    loss: o.loss,
  });
}
