import type { SegNet } from '../model/binding.js';
import type { SampleSet } from './dataset.js';
import { resolveOptions } from '../util/options.js';

export interface FitOptions {
  /** Maximum number of epochs. */
  maxEpochs?: number;
  /** Mini-batch size. */
  batchSize?: number;
  /** Initial Adam learning rate. Chosen higher than the paper's 5e-5 because we train from scratch. */
  learningRate?: number;
  /** Multiply the learning rate by this factor when validation Dice plateaus (paper: 5e-5 -> 1e-5). */
  lrDropFactor?: number;
  /** Epochs without validation improvement before the learning rate drops. */
  lrPatience?: number;
  /** Epochs without validation improvement before training stops (after at least `minEpochs`). */
  stopPatience?: number;
  /** Never stop before this many epochs. */
  minEpochs?: number;
  /** Seed of shuffling and augmentation. */
  seed?: number;
  /** Augmentation applied to training batches. */
  augment?: { flip?: boolean; rot90?: boolean; scale?: number; intensity?: number };
  /** Probability threshold used for the validation Dice. */
  threshold?: number;
  /** Called after every epoch (progress bars, checkpoints). May be async. */
  onEpoch?: (e: EpochRecord) => void | Promise<void>;
  /** Called during an epoch with finished and total steps. */
  onStep?: (done: number, total: number, loss: number) => void;
  /**
   * Small cohorts: an epoch repeats the (augmented) training set until it has seen at least this many
   * samples, so early stopping and the LR schedule see enough optimizer steps per epoch.
   */
  minSamplesPerEpoch?: number;
  /**
   * Large training sets: an epoch stops after this many images of its (seeded, per-epoch) shuffled order, so
   * fine-tuning on thousands of harvested slices costs a bounded time per epoch; 0 = every image.
   */
  maxSamplesPerEpoch?: number;
  /** Path to keep the best weights at (default: a file beside nothing; keeps them in memory via save/load). */
  bestPath?: string;
  /**
   * Resume: the epochs already trained (the net must hold the weights and optimizer state saved after the
   * last of them). Counters, best score and learning rate are replayed from it and training continues at
   * epoch `resumeHistory.length + 1` with the same per-epoch seeds as an uninterrupted run.
   */
  resumeHistory?: EpochRecord[];
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  /** Mean per-image Dice on the validation samples (weighted pixels only); NaN without validation data. */
  valDice: number;
  learningRate: number;
  seconds: number;
  improved: boolean;
}

export interface FitResult {
  history: EpochRecord[];
  bestEpoch: number;
  bestValDice: number;
  stoppedEarly: boolean;
}

export const FIT_DEFAULTS = {
  maxEpochs: 40,
  batchSize: 16,
  learningRate: 1e-3,
  lrDropFactor: 0.2,
  lrPatience: 4,
  stopPatience: 8,
  minEpochs: 6,
  seed: 0,
  augment: { flip: true, rot90: true, scale: 0.1, intensity: 0.05 },
  threshold: 0.5,
  onEpoch: () => {},
  onStep: () => {},
  minSamplesPerEpoch: 512,
  maxSamplesPerEpoch: 0,
  bestPath: '',
  resumeHistory: [],
} satisfies Required<FitOptions>;

/**
 * Trains `net` on `train`, tracking validation Dice for the learning-rate drop and early stopping.
 * When validation data exists the best weights are restored at the end (from `bestPath`).
 */
export async function fit(
  net: SegNet,
  train: SampleSet,
  val: SampleSet | undefined,
  options: FitOptions = {},
): Promise<FitResult> {
  const o = resolveOptions(FIT_DEFAULTS, options);
  net.learningRate = o.learningRate;
  const history: EpochRecord[] = [];
  let best = -Infinity;
  let bestEpoch = 0;
  let sinceBest = 0;
  let sinceDrop = 0;
  let stoppedEarly = false;
  const hasVal = val !== undefined && val.n > 0;
  for (const r of o.resumeHistory) {
    const score = hasVal ? r.valDice : -r.trainLoss;
    if (r.improved) [best, bestEpoch, sinceBest, sinceDrop] = [score, r.epoch, 0, 0];
    else [sinceBest, sinceDrop] = [sinceBest + 1, sinceDrop + 1];
    history.push(r);
    net.learningRate = r.learningRate;
    if (sinceDrop >= o.lrPatience && r.learningRate > o.learningRate * o.lrDropFactor * 0.99) {
      net.learningRate = r.learningRate * o.lrDropFactor;
      sinceDrop = 0;
    }
    if (r.epoch >= o.minEpochs && sinceBest >= o.stopPatience) stoppedEarly = true;
  }
  for (let epoch = history.length + 1; epoch <= o.maxEpochs && !stoppedEarly; epoch++) {
    const t0 = performance.now();
    const reps = Math.max(1, Math.ceil(o.minSamplesPerEpoch / Math.max(1, train.n)));
    let loss = 0;
    for (let rep = 0; rep < reps; rep++) {
      const r = await net.trainEpoch(
        { x: train.x, y: train.y, w: train.w, n: train.n },
        {
          batchSize: o.batchSize,
          seed: (o.seed * 7919 + epoch) * 101 + rep,
          shuffle: true,
          maxSamples: o.maxSamplesPerEpoch,
          augment: o.augment,
          onProgress: o.onStep,
        },
      );
      loss += r.loss / reps;
    }
    const valDice = hasVal ? await validationDice(net, val, o.threshold, o.batchSize) : Number.NaN;
    const score = hasVal ? valDice : -loss;
    const improved = score > best + 1e-4;
    if (improved) {
      best = score;
      bestEpoch = epoch;
      sinceBest = 0;
      sinceDrop = 0;
      if (hasVal && o.bestPath) await net.save(o.bestPath);
    } else {
      sinceBest++;
      sinceDrop++;
    }
    const record: EpochRecord = {
      epoch,
      trainLoss: loss,
      valDice,
      learningRate: net.learningRate,
      seconds: (performance.now() - t0) / 1000,
      improved,
    };
    history.push(record);
    await o.onEpoch(record);
    if (sinceDrop >= o.lrPatience && net.learningRate > o.learningRate * o.lrDropFactor * 0.99) {
      net.learningRate = net.learningRate * o.lrDropFactor;
      sinceDrop = 0;
    }
    if (epoch >= o.minEpochs && sinceBest >= o.stopPatience) {
      stoppedEarly = true;
      break;
    }
  }
  if (hasVal && o.bestPath && bestEpoch > 0 && bestEpoch !== history.length) await net.load(o.bestPath);
  return { history, bestEpoch, bestValDice: hasVal ? best : Number.NaN, stoppedEarly };
}

/** Mean per-image Dice between thresholded predictions and targets, over pixels with weight > 0. */
export async function validationDice(
  net: SegNet,
  set: SampleSet,
  threshold = 0.5,
  batchSize = 32,
): Promise<number> {
  const prob = await net.predict(set.x, set.n, { batchSize });
  const px = set.size * set.size;
  let sum = 0;
  for (let i = 0; i < set.n; i++) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let p = i * px; p < (i + 1) * px; p++) {
      if (set.w[p] <= 0) continue;
      const pred = prob[p] >= threshold;
      const truth = set.y[p] >= 0.5;
      if (pred && truth) tp++;
      else if (pred) fp++;
      else if (truth) fn++;
    }
    sum += tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
  }
  return set.n ? sum / set.n : Number.NaN;
}
