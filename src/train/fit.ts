import { allReduceMean, processGroup, type SegNet } from '../model/binding.js';
import { subsetSamples, type SampleSet } from './dataset.js';
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
  augment?: { flip?: boolean; rot90?: boolean; scale?: number; intensity?: number; shift?: number };
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
   * Write the best weights to `bestPath` (default). False: only read them back at the end (a distributed job's
   * ranks other than 0, which hold the same weights as rank 0, whose file is in the shared folder).
   */
  saveBest?: boolean;
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
  augment: { flip: true, rot90: true, scale: 0.1, intensity: 0.05, shift: 0.15 },
  threshold: 0.5,
  onEpoch: () => {},
  onStep: () => {},
  minSamplesPerEpoch: 512,
  maxSamplesPerEpoch: 0,
  bestPath: '',
  saveBest: true,
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
  const hasVal = val !== undefined && val.n > 0;
  const plateau = new Plateau(o);
  const history: EpochRecord[] = [];
  net.learningRate = o.learningRate;
  // a resumed run replays the schedule of its finished epochs
  for (const r of o.resumeHistory) {
    plateau.step(r.epoch, hasVal ? r.valDice : -r.trainLoss, r.improved);
    history.push(r);
    net.learningRate = plateau.nextLearningRate(r.learningRate);
  }
  // In a process group each rank scores its own block of the validation set, and every rank decides on the
  // job's numbers (the mean loss, the Dice of the whole set), so that all stop at the same epoch.
  const group = processGroup();
  const valShard = hasVal && group ? subsetSamples(val, blockOf(val.n, group.rank, group.worldSize)) : val;
  for (let epoch = history.length + 1; epoch <= o.maxEpochs && !plateau.stopped; epoch++) {
    const t0 = performance.now();
    let loss = await trainOneEpoch(net, train, o, epoch);
    let valDice: number;
    if (group) {
      const part = hasVal
        ? await validationDiceSum(net, valShard!, o.threshold, o.batchSize)
        : { sum: 0, n: 0 };
      const [meanLoss, sum, n] = await allReduceMean([loss, part.sum, part.n]);
      loss = meanLoss;
      valDice = hasVal && n > 0 ? sum / n : Number.NaN;
    } else {
      valDice = hasVal ? await validationDice(net, val, o.threshold, o.batchSize) : Number.NaN;
    }
    const improved = plateau.step(epoch, hasVal ? valDice : -loss);
    if (improved && hasVal && o.bestPath && o.saveBest) await net.save(o.bestPath);
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
    net.learningRate = plateau.nextLearningRate(net.learningRate);
  }
  const { bestEpoch } = plateau;
  if (hasVal && o.bestPath && bestEpoch > 0 && bestEpoch !== history.length) await net.load(o.bestPath);
  return {
    history,
    bestEpoch,
    bestValDice: hasVal ? plateau.best : Number.NaN,
    stoppedEarly: plateau.stopped,
  };
}

/**
 * One epoch: the (augmented, shuffled) training set, repeated until it holds `minSamplesPerEpoch` images;
 * the seeds depend only on the fit seed, the epoch and the repetition, so a resumed run repeats them.
 */
async function trainOneEpoch(
  net: SegNet,
  train: SampleSet,
  o: Required<FitOptions>,
  epoch: number,
): Promise<number> {
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
  return loss;
}

/** The schedule of `fit`: best score, learning-rate drop on a plateau, early stopping. */
class Plateau {
  best = -Infinity;
  bestEpoch = 0;
  stopped = false;
  #sinceBest = 0;
  #sinceDrop = 0;
  readonly #o: Required<FitOptions>;

  constructor(o: Required<FitOptions>) {
    this.#o = o;
  }

  /** Records an epoch's score (higher is better) and returns whether it improved on the best. */
  step(epoch: number, score: number, improved = score > this.best + 1e-4): boolean {
    if (improved) {
      [this.best, this.bestEpoch, this.#sinceBest, this.#sinceDrop] = [score, epoch, 0, 0];
    } else {
      this.#sinceBest++;
      this.#sinceDrop++;
    }
    if (epoch >= this.#o.minEpochs && this.#sinceBest >= this.#o.stopPatience) this.stopped = true;
    return improved;
  }

  /** The learning rate of the next epoch: `lr`, dropped once `lrPatience` epochs went without improvement. */
  nextLearningRate(lr: number): number {
    const o = this.#o;
    if (this.#sinceDrop < o.lrPatience || lr <= o.learningRate * o.lrDropFactor * 0.99) return lr;
    this.#sinceDrop = 0;
    return lr * o.lrDropFactor;
  }
}

/** Mean per-image Dice between thresholded predictions and targets, over pixels with weight > 0. */
export async function validationDice(
  net: SegNet,
  set: SampleSet,
  threshold = 0.5,
  batchSize = 32,
): Promise<number> {
  const { sum, n } = await validationDiceSum(net, set, threshold, batchSize);
  return n ? sum / n : Number.NaN;
}

/** The indices of rank `rank`'s contiguous block of `n` items split over `worldSize` ranks. */
function blockOf(n: number, rank: number, worldSize: number): number[] {
  const [from, to] = [Math.floor((n * rank) / worldSize), Math.floor((n * (rank + 1)) / worldSize)];
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The sum of the per-image Dice of `validationDice` and the number of images. */
async function validationDiceSum(
  net: SegNet,
  set: SampleSet,
  threshold: number,
  batchSize: number,
): Promise<{ sum: number; n: number }> {
  if (set.n === 0) return { sum: 0, n: 0 };
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
  return { sum, n: set.n };
}
