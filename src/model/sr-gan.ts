/**
 * SrGan: one stage of the stacked GAN super-resolution (paper section 3.4): a generator (G1, the denoiser, or
 * G2, the enhancer) and its discriminator, with their Adam optimizers, living in the native engine. Like
 * SegNet, calls on one net are queued and every call returns a Promise. Re-exported by binding.ts.
 */
import { Recist3dError } from '../errors.js';
import {
  CallQueue,
  NATIVE_LIMITS,
  checkArray,
  checkInt,
  checkPath,
  nativeCall,
  stripUndefined as strip,
  toNativeError,
  type NativeSrGan,
  type SrConfig,
  type SrLosses,
} from './native.js';

const SR_CONFIG_DEFAULTS = {
  seed: 0,
  learningRate: 1e-4,
  advWeight: 1e-3,
  gradWeight: 1,
} satisfies Required<Pick<SrConfig, 'seed' | 'learningRate' | 'advWeight' | 'gradWeight'>>;

export interface SrApplyOptions {
  /** Bicubic upsampling factor applied before the generator (G2 takes any zoom); default 1. */
  zoom?: number;
  /**
   * Images per forward pass; default `srPassBatch`: as many as fit in 8,192 output pixels. Larger passes are
   * several times slower per image on the CPU (measured with bench/sr/run.ts: 64 px ROIs took 14 ms each two
   * at a time and 67 ms each eight at a time), as the activations of 16 channels then outgrow the caches.
   */
  batchSize?: number;
}

const APPLY_DEFAULTS = { zoom: 1 } satisfies Omit<Required<SrApplyOptions>, 'batchSize'>;

/** Output pixels per forward pass of the default `batchSize`. */
const PASS_PIXELS = 8192;

/** The default images per forward pass for h*w inputs at `zoom` (at least 1). */
export function srPassBatch(h: number, w: number, zoom = 1): number {
  return Math.max(1, Math.floor(PASS_PIXELS / (Math.round(h * zoom) * Math.round(w * zoom))));
}

function resolveSrConfig(c: SrConfig): Required<SrConfig> {
  const full = { ...SR_CONFIG_DEFAULTS, ...strip(c) } as Required<SrConfig>;
  checkInt(full.blocks, 'SR config.blocks', 0, NATIVE_LIMITS.maxBlocks);
  checkInt(full.width, 'SR config.width', 1, NATIVE_LIMITS.maxBaseWidth);
  checkInt(full.discWidth, 'SR config.discWidth', 1, NATIVE_LIMITS.maxBaseWidth);
  checkInt(full.dense, 'SR config.dense', 1, NATIVE_LIMITS.maxBaseWidth * 64);
  checkInt(full.seed, 'SR config.seed', 0, NATIVE_LIMITS.maxSafeInteger);
  for (const k of ['learningRate', 'advWeight', 'gradWeight'] as const) {
    const v = full[k];
    const ok = Number.isFinite(v) && (k === 'learningRate' ? v > 0 : v >= 0);
    if (!ok)
      throw new Recist3dError(
        'E_NATIVE_ARG',
        `Expected a ${k === 'learningRate' ? 'positive' : 'non-negative'} number for SR config.${k} but received ${v}`,
      );
  }
  return full;
}

export class SrGan {
  readonly config: Required<SrConfig>;
  readonly #native: NativeSrGan;
  readonly #queue: CallQueue<NativeSrGan>;

  private constructor(config: Required<SrConfig>, native: NativeSrGan) {
    this.config = Object.freeze({ ...config });
    this.#native = native;
    this.#queue = new CallQueue(native);
  }

  /** Builds a freshly initialised (seeded) generator and discriminator on the torch thread. */
  static async create(config: SrConfig): Promise<SrGan> {
    const site = new Error();
    let full: Required<SrConfig>;
    try {
      full = resolveSrConfig(config);
    } catch (e) {
      throw toNativeError(e, 'SrGan.create', site);
    }
    const native = await nativeCall('SrGan.create', site, (a) => a.createSrGan(full));
    return new SrGan(full, native);
  }

  /**
   * One discriminator step then one generator step on n pairs of h*w images: `x` degraded (for G2 already
   * upsampled to the clean image's size), `y` clean, both in the same intensity scale.
   */
  trainStep(x: Float32Array, y: Float32Array, n: number, h: number, w: number): Promise<SrLosses> {
    const site = new Error();
    const check = () => {
      checkInt(n, 'SrGan.trainStep n', 1);
      checkInt(h, 'SrGan.trainStep h', 1, NATIVE_LIMITS.maxSize);
      checkInt(w, 'SrGan.trainStep w', 1, NATIVE_LIMITS.maxSize);
      checkArray(x, 'Float32Array', 'SrGan.trainStep x', n * h * w, `n*h*w (${n}*${h}*${w})`);
      checkArray(y, 'Float32Array', 'SrGan.trainStep y', n * h * w, `n*h*w (${n}*${h}*${w})`);
      checkFinite(x, 'SrGan.trainStep x');
      checkFinite(y, 'SrGan.trainStep y');
    };
    return this.#queue.run('SrGan.trainStep', site, check, (nat) => nat.trainStep(x, y, n, h, w));
  }

  /**
   * The generator (eval mode) on n h*w images, bicubically upsampled by `zoom` first; resolves with
   * n * round(h*zoom) * round(w*zoom) values.
   */
  apply(x: Float32Array, n: number, h: number, w: number, opts: SrApplyOptions = {}): Promise<Float32Array> {
    const site = new Error();
    const zoom = opts.zoom ?? APPLY_DEFAULTS.zoom;
    const o = { zoom, batchSize: opts.batchSize ?? srPassBatch(h, w, zoom) };
    const check = () => {
      checkInt(n, 'SrGan.apply n', 0);
      checkInt(h, 'SrGan.apply h', 1, NATIVE_LIMITS.maxSize);
      checkInt(w, 'SrGan.apply w', 1, NATIVE_LIMITS.maxSize);
      if (!(o.zoom >= 1 && o.zoom <= NATIVE_LIMITS.maxZoom))
        throw new Recist3dError(
          'E_NATIVE_ARG',
          `Expected a number in [1, ${NATIVE_LIMITS.maxZoom}] for SrGan.apply zoom but received ${o.zoom}`,
        );
      checkInt(o.batchSize, 'SrGan.apply batchSize', 1);
      checkArray(x, 'Float32Array', 'SrGan.apply x', n * h * w, `n*h*w (${n}*${h}*${w})`);
      checkFinite(x, 'SrGan.apply x');
    };
    return this.#queue.run('SrGan.apply', site, check, (nat) => nat.apply(x, n, h, w, o.zoom, o.batchSize));
  }

  /** Writes both networks, both optimizer states and `step` (the training steps done) to `path`. */
  save(path: string, step: number): Promise<void> {
    const site = new Error();
    return this.#queue.run(
      'SrGan.save',
      site,
      () => {
        checkPath(path);
        checkInt(step, 'SrGan.save step', 0, NATIVE_LIMITS.maxSafeInteger);
      },
      (n) => n.save(path, step),
    );
  }

  /** Reads a checkpoint written by `save` for the same sizes; resolves with its step count. */
  load(path: string): Promise<number> {
    const site = new Error();
    return this.#queue.run(
      'SrGan.load',
      site,
      () => checkPath(path),
      (n) => n.load(path),
    );
  }

  parameterCount(): { generator: number; discriminator: number } {
    const site = new Error();
    try {
      return this.#native.parameterCount();
    } catch (e) {
      throw toNativeError(e, 'SrGan.parameterCount', site);
    }
  }

  /** Frees the native networks now (a call already running finishes first). */
  dispose(): void {
    this.#native.dispose();
  }
}

function checkFinite(a: Float32Array, name: string): void {
  const bad = a.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected finite values in ${name} but ${name}[${bad}] = ${a[bad]}`,
    );
}
