/**
 * SegNet: a UNet or HNN with its Adam optimizer, living in the native engine. Calls on one net are
 * queued (a net never runs two workers at once); every call returns a Promise and leaves the event loop
 * free. Re-exported by binding.ts, which owns the addon.
 */
import { Recist3dError } from '../errors.js';
import {
  CallQueue,
  NATIVE_LIMITS,
  checkArray,
  checkPath,
  checkInt,
  nativeCall,
  stripUndefined,
  toNativeError,
  type EpochOptions,
  type NativeSegNet,
  type NetConfig,
  type TrainBatch,
} from './native.js';

const DEFAULT_DEPTH = { unet: 4, hnn: 5 } as const;

const CONFIG_DEFAULTS = {
  seed: 0,
  learningRate: 1e-3,
  loss: 'bce',
} satisfies Required<Pick<NetConfig, 'seed' | 'learningRate' | 'loss'>>;

const PREDICT_DEFAULTS = {
  /** Images per forward pass. */
  batchSize: 32,
} satisfies Required<PredictOptions>;

export interface PredictOptions {
  /** Images per forward pass; default 32. */
  batchSize?: number;
}

function resolveConfig(c: NetConfig): Required<NetConfig> {
  if (c.arch !== 'unet' && c.arch !== 'hnn') {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected 'unet' or 'hnn' for config.arch but received ${String(c.arch)}`,
    );
  }
  const full = {
    ...CONFIG_DEFAULTS,
    depth: DEFAULT_DEPTH[c.arch],
    ...stripUndefined(c),
  } as Required<NetConfig>;
  checkInt(full.inChannels, 'config.inChannels', 1, NATIVE_LIMITS.maxChannels);
  checkInt(full.size, 'config.size', 1, NATIVE_LIMITS.maxSize);
  checkInt(full.baseWidth, 'config.baseWidth', 1, NATIVE_LIMITS.maxBaseWidth);
  checkInt(full.depth, 'config.depth', 1, NATIVE_LIMITS.maxDepth);
  checkInt(full.seed, 'config.seed', 0, NATIVE_LIMITS.maxSafeInteger);
  if (!(full.learningRate > 0) || !Number.isFinite(full.learningRate)) {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected a positive number for config.learningRate but received ${full.learningRate}`,
    );
  }
  if (full.loss !== 'bce' && full.loss !== 'balanced') {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected 'bce' or 'balanced' for config.loss but received ${String(full.loss)}`,
    );
  }
  if (full.size < 2 ** (full.depth - 1)) {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `config.size ${full.size} is too small for depth ${full.depth} (needs >= 2^(depth-1))`,
    );
  }
  return full;
}

export class SegNet {
  readonly config: Required<NetConfig>;
  readonly #native: NativeSegNet;
  readonly #queue: CallQueue<NativeSegNet>;

  private constructor(config: Required<NetConfig>, native: NativeSegNet) {
    this.config = Object.freeze({ ...config });
    this.#native = native;
    this.#queue = new CallQueue(native);
  }

  /**
   * Builds a freshly initialised network (seeded). The weights are made on the native engine's torch thread,
   * so the event loop stays free. Rejects with E_NATIVE_ARG (a config outside NATIVE_LIMITS), E_NATIVE_OOM (a
   * net that could not hold even one image within `engineInfo().memoryLimit`), E_NATIVE_DEVICE or
   * E_NATIVE_MISSING.
   */
  static async create(config: NetConfig): Promise<SegNet> {
    const site = new Error();
    let full: Required<NetConfig>;
    try {
      full = resolveConfig(config);
    } catch (e) {
      throw toNativeError(e, 'SegNet.create', site);
    }
    const native = await nativeCall('SegNet.create', site, (a) => a.createSegNet(full));
    return new SegNet(full, native);
  }

  /** Adam learning rate; setting it takes effect from the next queued call. */
  get learningRate(): number {
    return this.#native.getLearningRate();
  }

  set learningRate(lr: number) {
    const site = new Error();
    try {
      this.#native.setLearningRate(lr);
    } catch (e) {
      throw toNativeError(e, 'SegNet.learningRate', site);
    }
  }

  /**
   * One Adam step on the whole batch; resolves with its loss. In a process group (process-group.ts) the
   * gradients are averaged over the ranks before the step and the loss is the ranks' mean.
   */
  trainStep(batch: TrainBatch): Promise<{ loss: number }> {
    const site = new Error();
    return this.#queue.run(
      'SegNet.trainStep',
      site,
      () => this.#checkBatch(batch, 'trainStep'),
      async (n) => ({
        loss: await n.trainStep(batch.x, batch.y, batch.w, batch.n),
      }),
    );
  }

  /**
   * One pass over `data` in shuffled, augmented mini-batches; resolves with the mean loss per image. In a
   * process group every rank passes the same `data`, takes its own shard of the shared shuffled order with
   * ceil(batchSize / worldSize) images per step, and averages the gradients before each step
   * (docs/distributed.md).
   */
  trainEpoch(data: TrainBatch, opts: EpochOptions): Promise<{ loss: number; steps: number }> {
    const site = new Error();
    const check = () => {
      this.#checkBatch(data, 'trainEpoch');
      checkInt(opts.batchSize, 'trainEpoch batchSize', 1);
      checkInt(opts.seed, 'trainEpoch seed', 0, NATIVE_LIMITS.maxSafeInteger);
      checkInt(opts.maxSamples ?? 0, 'trainEpoch maxSamples', 0, NATIVE_LIMITS.maxSafeInteger);
      for (const k of ['scale', 'intensity', 'shift'] as const) {
        const v = opts.augment?.[k] ?? 0;
        if (!(v >= 0 && v < 1)) {
          throw new Recist3dError(
            'E_NATIVE_ARG',
            `Expected a number in [0, 1) for trainEpoch augment.${k} but received ${v}`,
          );
        }
      }
    };
    const a = opts.augment ?? {};
    const nativeOpts = {
      batchSize: opts.batchSize,
      seed: opts.seed,
      shuffle: opts.shuffle ?? true,
      maxSamples: opts.maxSamples ?? 0,
      flip: a.flip ?? false,
      rot90: a.rot90 ?? false,
      scale: a.scale ?? 0,
      intensity: a.intensity ?? 0,
      shift: a.shift ?? 0,
    };
    return this.#queue.run('SegNet.trainEpoch', site, check, (n) =>
      n.trainEpoch(data.x, data.y, data.w, data.n, nativeOpts, opts.onProgress),
    );
  }

  /** Sigmoid probabilities, n*h*w (the fused output for hnn), in eval mode. */
  predict(x: Float32Array, n: number, opts: PredictOptions = {}): Promise<Float32Array> {
    const site = new Error();
    const o = { ...PREDICT_DEFAULTS, ...stripUndefined(opts) };
    const { inChannels: c, size: s } = this.config;
    const check = () => {
      checkInt(n, 'predict n', 0);
      checkInt(o.batchSize, 'predict batchSize', 1);
      checkArray(x, 'Float32Array', 'predict x', n * c * s * s, `n*c*size*size (${n}*${c}*${s}*${s})`);
    };
    return this.#queue.run('SegNet.predict', site, check, (nat) =>
      n === 0 ? Promise.resolve(new Float32Array(0)) : nat.predict(x, n, o.batchSize),
    );
  }

  /** Writes weights, BN statistics and optimizer state (so training can resume) to `path`. */
  save(path: string): Promise<void> {
    const site = new Error();
    return this.#queue.run(
      'SegNet.save',
      site,
      () => checkPath(path),
      (n) => n.save(path),
    );
  }

  /** Reads a checkpoint written by `save` for a net with the same arch/inChannels/size/baseWidth/depth. */
  load(path: string): Promise<void> {
    const site = new Error();
    return this.#queue.run(
      'SegNet.load',
      site,
      () => checkPath(path),
      (n) => n.load(path),
    );
  }

  parameterCount(): number {
    const site = new Error();
    try {
      return this.#native.parameterCount();
    } catch (e) {
      throw toNativeError(e, 'SegNet.parameterCount', site);
    }
  }

  /** All parameters flattened (float32) in the network's parameter order, e.g. to compare the ranks of a job. */
  parameters(): Promise<Float32Array> {
    const site = new Error();
    return this.#queue.run(
      'SegNet.parameters',
      site,
      () => {},
      (n) => n.parameters(),
    );
  }

  /** Frees the native network now (a call already running finishes first); later calls reject E_NATIVE_DISPOSED. */
  dispose(): void {
    this.#native.dispose();
  }

  #checkBatch(b: TrainBatch, what: string): void {
    const { inChannels: c, size: s } = this.config;
    const n = checkInt(b.n, `${what} n`, 1);
    checkArray(b.x, 'Float32Array', `${what} x`, n * c * s * s, `n*c*size*size (${n}*${c}*${s}*${s})`);
    checkArray(b.y, 'Float32Array', `${what} y`, n * s * s, `n*size*size (${n}*${s}*${s})`);
    if (b.w !== undefined)
      checkArray(b.w, 'Float32Array', `${what} w`, n * s * s, `n*size*size (${n}*${s}*${s})`);
    const badY = b.y.findIndex((v) => !(v >= 0 && v <= 1));
    if (badY >= 0)
      throw new Recist3dError(
        'E_NATIVE_ARG',
        `Expected ${what} y values in [0, 1] but y[${badY}] = ${b.y[badY]}`,
      );
    const badW = b.w ? b.w.findIndex((v) => !(v >= 0 && Number.isFinite(v))) : -1;
    if (badW >= 0)
      throw new Recist3dError(
        'E_NATIVE_ARG',
        `Expected finite ${what} w values >= 0 but w[${badW}] = ${b.w?.[badW]}`,
      );
  }
}
