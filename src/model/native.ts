/**
 * The private half of the native seam: the addon's own interface, its lazy loader, the wrappers that turn native
 * failures into `Recist3dError`s with the caller's stack, and the argument checks done before any native call.
 * Only `binding.ts` (the public seam), `segnet.ts` and `sr-gan.ts` import this module.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Recist3dError, type ErrorCode } from '../errors.js';

export type Arch = 'unet' | 'hnn';

/**
 * Bounds on every count that crosses the native seam, checked here before a native call and again in C++
 * (native/limits.h states the same numbers; the addon exports its own as `limits` and a test compares them).
 * Beyond them a call is refused with E_NATIVE_ARG. Memory is checked in C++ only: a call whose lower-bound
 * estimate exceeds `engineInfo().memoryLimit` is refused with E_NATIVE_OOM before anything is allocated.
 */
export const NATIVE_LIMITS = {
  /** SegNet side (H = W) and GrabCut h and w, in pixels. */
  maxSize: 65536,
  /** UNet levels / HNN stages; size must also be >= 2^(depth-1). */
  maxDepth: 16,
  /** SegNet input channels. */
  maxChannels: 64,
  /** SegNet width of the first level. */
  maxBaseWidth: 1024,
  /** Residual blocks of an SR generator. */
  maxBlocks: 256,
  /** SR upsampling factor of SrGan.apply (the input side times zoom must stay within maxSize). */
  maxZoom: 16,
  /** Images per call (n) and per step (batchSize). */
  maxCount: 2 ** 30,
  /** libtorch intra-op and OpenCV threads. */
  maxThreads: 1024,
  /** GrabCut iterations. */
  maxIterations: 1000,
  /** Pixels per GrabCut image (OpenCV's graph counts its edges in an int). */
  maxGrabCutPixels: 2 ** 26,
  /** Seeds and maxSamples. */
  maxSafeInteger: Number.MAX_SAFE_INTEGER,
} as const;

export type NativeLimits = { readonly [K in keyof typeof NATIVE_LIMITS]: number };

export interface NetConfig {
  /** Network family: 'unet' (conv-BN-ReLU encoder/decoder) or 'hnn' (HED-style deep supervision). */
  arch: Arch;
  /** Input channels. */
  inChannels: number;
  /** Square input size in pixels (H = W = size). */
  size: number;
  /** Width of the first level/stage; deeper ones are multiples of it. */
  baseWidth: number;
  /** UNet levels / HNN stages; default 4 for unet, 5 for hnn. */
  depth?: number;
  /** Seed for the weight initialisation; default 0. */
  seed?: number;
  /** Adam learning rate; default 1e-3. */
  learningRate?: number;
  /** 'bce': per-pixel weighted BCE averaged per image (Eq. 1); 'balanced': HED class-balanced BCE. Default 'bce'. */
  loss?: 'bce' | 'balanced';
}

export interface TrainBatch {
  /** n*c*h*w inputs. */
  x: Float32Array;
  /** n*h*w targets in [0, 1]. */
  y: Float32Array;
  /** n*h*w per-pixel weights >= 0 (0 = ignore); default all 1. */
  w?: Float32Array;
  /** Number of images. */
  n: number;
}

export interface EpochOptions {
  /** Images per optimizer step (the last step may be smaller). */
  batchSize: number;
  /** Seed for shuffling and augmentation. */
  seed: number;
  /** Shuffle the images; default true. */
  shuffle?: boolean;
  /** Stop the epoch after this many images of the shuffled order (a seeded subset); 0 or absent = all. */
  maxSamples?: number;
  augment?: {
    /** Random horizontal flips. */
    flip?: boolean;
    /** Random 90-degree rotations. */
    rot90?: boolean;
    /** Max relative scale jitter, e.g. 0.1; pixels pulled in from outside the image get weight 0. */
    scale?: number;
    /** Max additive and multiplicative intensity jitter. */
    intensity?: number;
    /**
     * Max translation as a fraction of the image side (both axes, uniform); pixels pulled in from outside get
     * weight 0. Breaks the "lesion always in the centre" shortcut of ROI training.
     */
    shift?: number;
  };
  /** Called on the main thread after every step with the running mean loss. */
  onProgress?: (done: number, total: number, loss: number) => void;
}

export interface GrabCutBatch {
  /** n*h*w*3 8-bit BGR images (gray replicated is fine). */
  images: Uint8Array;
  /** n*h*w labels BG=0 FG=1 PR_BG=2 PR_FG=3. */
  trimaps: Uint8Array;
  n: number;
  h: number;
  w: number;
  /** GrabCut iterations (>= 1). */
  iterations: number;
}

/**
 * Per-image outcome of `grabCutWithStatus`. Any status but OK means the mask is the trimap's FG|PR_FG.
 * 0 OK; 1 fewer than 5 FG/PR_FG pixels; 2 fewer than 5 BG/PR_BG pixels; 3 OpenCV failed on this image.
 */
export const GRABCUT_STATUS = { OK: 0, NO_FOREGROUND: 1, NO_BACKGROUND: 2, OPENCV_ERROR: 3 } as const;

export interface GrabCutResult {
  /** n*h*w, 1 where GrabCut's final label is FG or PR_FG. */
  masks: Uint8Array;
  /** n statuses, see GRABCUT_STATUS. */
  status: Int8Array;
}

export interface EngineInfo {
  torchVersion: string;
  opencvVersion: string;
  /** Threads used by libtorch (intra-op) and OpenCV. */
  threads: number;
  /** RECIST3D_DEVICE ('cpu' unless set). */
  device: string;
  cudaAvailable: boolean;
  /** The addon was linked against a libtorch with CUDA. */
  cudaCompiled: boolean;
  /**
   * Bytes a call may plan to use: the smallest of physical RAM, the cgroup's memory.max and
   * RECIST3D_MEMORY_LIMIT_MB. Calls whose lower-bound estimate exceeds it are refused with E_NATIVE_OOM.
   */
  memoryLimit: number;
}

export interface NativeGroupConfig {
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** Rendezvous and per-collective timeout in milliseconds. */
  timeoutMs: number;
}

/** A joined process group. */
export interface GroupInfo {
  /** The c10d backend ('gloo'). */
  backend: string;
  rank: number;
  worldSize: number;
  /** Rendezvous and per-collective timeout in milliseconds. */
  timeoutMs: number;
}

/**
 * What the .node file exports. Arguments are positional and already validated here in TS; the addon checks
 * them again (types, integrality, NATIVE_LIMITS, lengths, memory) and throws or rejects with a coded error.
 */
export interface NativeSegNet {
  trainStep(x: Float32Array, y: Float32Array, w: Float32Array | undefined, n: number): Promise<number>;
  trainEpoch(
    x: Float32Array,
    y: Float32Array,
    w: Float32Array | undefined,
    n: number,
    opts: {
      batchSize: number;
      seed: number;
      shuffle: boolean;
      maxSamples: number;
      flip: boolean;
      rot90: boolean;
      scale: number;
      intensity: number;
      shift: number;
    },
    onProgress: ((done: number, total: number, loss: number) => void) | undefined,
  ): Promise<{ loss: number; steps: number }>;
  predict(x: Float32Array, n: number, batchSize: number): Promise<Float32Array>;
  save(path: string): Promise<void>;
  load(path: string): Promise<void>;
  parameterCount(): number;
  /** All parameters flattened (float32), in the network's parameter order. */
  parameters(): Promise<Float32Array>;
  getLearningRate(): number;
  setLearningRate(lr: number): void;
  dispose(): void;
}

/** One stage of the stacked GAN (paper section 3.4): a generator and its discriminator. */
export interface SrConfig {
  /** Residual blocks of the generator (paper: 9 for G1, the denoiser; 16 for G2, the enhancer). */
  blocks: number;
  /** Generator feature width (paper: 64). */
  width: number;
  /** Discriminator width of its first convolution; the 8 convolutions have w,w,2w,2w,4w,4w,8w,8w (paper: 64). */
  discWidth: number;
  /** Units of the discriminator's first dense layer (paper: 1024). */
  dense: number;
  /** Seed for the weight initialisation; default 0. */
  seed?: number;
  /** Adam learning rate of both networks; default 1e-4 (SRGAN's). */
  learningRate?: number;
  /** Weight of the adversarial term in the generator's loss; default 1e-3 (SRGAN's); 0 trains without D. */
  advWeight?: number;
  /** Weight of the image-gradient L1 term beside the pixel L1 (the stand-in for the VGG loss); default 1. */
  gradWeight?: number;
}

/** The losses of one SR training step. */
export interface SrLosses {
  /** The generator's total: pixel + gradWeight * gradient + advWeight * adversarial. */
  generator: number;
  /** Mean absolute error of the output against the clean image. */
  pixel: number;
  /** Mean absolute error of its horizontal and vertical finite differences. */
  gradient: number;
  /** BCE of the discriminator calling the output real (0 when advWeight is 0). */
  adversarial: number;
  /** The discriminator's BCE on clean (real) and generated (fake) images (0 when advWeight is 0). */
  discriminator: number;
}

export interface NativeSrGan {
  trainStep(x: Float32Array, y: Float32Array, n: number, h: number, w: number): Promise<SrLosses>;
  apply(
    x: Float32Array,
    n: number,
    h: number,
    w: number,
    zoom: number,
    batchSize: number,
  ): Promise<Float32Array>;
  save(path: string, step: number): Promise<void>;
  /** Resolves with the step count saved with the weights. */
  load(path: string): Promise<number>;
  parameterCount(): { generator: number; discriminator: number };
  dispose(): void;
}

export interface NativeAddon {
  /** Checks the config, builds a generator + discriminator on the torch thread, resolves with the handle. */
  createSrGan(config: Required<SrConfig>): Promise<NativeSrGan>;
  /** Checks the config on the JS thread, builds the net on the torch thread, resolves with its handle. */
  createSegNet(config: Required<NetConfig>): Promise<NativeSegNet>;
  grabCut(
    images: Uint8Array,
    trimaps: Uint8Array,
    n: number,
    h: number,
    w: number,
    iterations: number,
  ): Promise<GrabCutResult>;
  engineInfo(): EngineInfo;
  setThreads(n: number): void;
  /** Test seam: throws a native exception of the given family inside an entry point (see native/addon.cc). */
  throwForTest(kind: 'opencv' | 'opencv-nomem' | 'torch' | 'bad_alloc' | 'std' | 'unknown'): void;
  /** Joins a job (TCPStore rendezvous + ProcessGroupGloo); rejects E_DIST_TIMEOUT / E_DIST naming the rank. */
  initProcessGroup(config: NativeGroupConfig): Promise<void>;
  /** The group this process joined, or undefined. */
  processGroupInfo(): GroupInfo | undefined;
  destroyProcessGroup(): void;
  /** Each entry's mean over the ranks (on the torch thread, ordered with training's all-reduces). */
  allReduceMean(values: Float64Array): Promise<Float64Array>;
  /** The C++ side's bounds (equal to NATIVE_LIMITS). */
  limits: NativeLimits;
}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the addon is loaded from; RECIST3D_ADDON overrides it. */
export const ADDON_PATH =
  process.env.RECIST3D_ADDON ?? resolve(REPO_ROOT, 'build', 'Release', 'recist3d.node');

let addon: NativeAddon | undefined;

/** Loads the addon on first use (then cached) and applies RECIST3D_THREADS / availableParallelism(). */
export function nativeAddon(): NativeAddon {
  if (addon) return addon;
  const fix =
    'Build it with `npm run setup` (it needs the Debian packages: apt-get install libtorch-dev libgloo-dev libopencv-dev).';
  if (!existsSync(ADDON_PATH)) {
    throw new Recist3dError('E_NATIVE_MISSING', `The native addon ${ADDON_PATH} has not been built. ${fix}`);
  }
  // libtorch's OpenMP threads spin after each parallel region by default; on a busy machine (2 cores
  // shared by several processes) that spinning cut training throughput up to 5x in our measurements.
  // libgomp reads this once, when the addon first loads it; set OMP_WAIT_POLICY=active to opt out.
  process.env.OMP_WAIT_POLICY ??= 'passive';
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new Recist3dError(
      'E_NATIVE_MISSING',
      `The native addon ${ADDON_PATH} failed to load (${why}). ${fix}`,
      {},
      { cause: e },
    );
  }
  addon.setThreads(threadsFromEnv());
  return addon;
}

function threadsFromEnv(): number {
  const raw = process.env.RECIST3D_THREADS;
  if (raw === undefined || raw === '') return Math.min(availableParallelism(), NATIVE_LIMITS.maxThreads);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > NATIVE_LIMITS.maxThreads) {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected an integer in [1, ${NATIVE_LIMITS.maxThreads}] for RECIST3D_THREADS but received '${raw}'`,
    );
  }
  return n;
}

const NATIVE_CODES = new Set<ErrorCode>([
  'E_NATIVE_SHAPE',
  'E_NATIVE_ARG',
  'E_NATIVE_TORCH',
  'E_NATIVE_OOM',
  'E_NATIVE_OPENCV',
  'E_NATIVE_IO',
  'E_NATIVE_DISPOSED',
  'E_NATIVE_DEVICE',
  'E_NATIVE_MISSING',
  'E_DIST',
  'E_DIST_TIMEOUT',
]);

/** A Recist3dError for a native failure (other errors pass through unchanged), with the stack of `site` (an Error made when the caller called us). */
export function toNativeError(e: unknown, what: string, site: Error): Error {
  if (e instanceof Recist3dError) return e;
  // An error without a code did not come from the engine (e.g. thrown by an onProgress callback): keep it.
  if (e instanceof Error && (e as { code?: unknown }).code === undefined) return e;
  const raw = (e as { code?: unknown } | null)?.code;
  const code: ErrorCode = NATIVE_CODES.has(raw as ErrorCode) ? (raw as ErrorCode) : 'E_NATIVE_UNKNOWN';
  const message = e instanceof Error ? e.message : String(e);
  const err = new Recist3dError(code, `${what}: ${message}`, {}, { cause: e });
  const frames = (site.stack ?? '').split('\n').slice(1).join('\n');
  err.stack = `${err.name} [${code}]: ${err.message}\n${frames}`;
  return err;
}

/** Runs an async native call; `site` must be created synchronously by the public entry point. */
export async function nativeCall<T>(
  what: string,
  site: Error,
  fn: (a: NativeAddon) => Promise<T>,
): Promise<T> {
  try {
    return await fn(nativeAddon());
  } catch (e) {
    throw toNativeError(e, what, site);
  }
}

export function nativeCallSync<T>(what: string, fn: (a: NativeAddon) => T): T {
  const site = new Error();
  try {
    return fn(nativeAddon());
  } catch (e) {
    throw toNativeError(e, what, site);
  }
}

/** Throws E_NATIVE_ARG unless `value` is an integer in [min, max] (max defaults to NATIVE_LIMITS.maxCount). */
export function checkInt(
  value: unknown,
  name: string,
  min: number,
  max: number = NATIVE_LIMITS.maxCount,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected an integer in [${min}, ${max}] for ${name} but received ${String(value)}`,
    );
  }
  return value;
}

/** Throws E_NATIVE_SHAPE unless `arr` is a `type` of exactly `expected` elements. */
export function checkArray(
  arr: unknown,
  type: 'Float32Array' | 'Uint8Array',
  name: string,
  expected: number,
  shape: string,
): void {
  const ok = type === 'Float32Array' ? arr instanceof Float32Array : arr instanceof Uint8Array;
  if (!ok) throw new Recist3dError('E_NATIVE_ARG', `Expected a ${type} for ${name}`);
  const len = (arr as Float32Array | Uint8Array).length;
  if (len !== expected) {
    throw new Recist3dError(
      'E_NATIVE_SHAPE',
      `Expected ${name} to hold ${shape} = ${expected} values but it holds ${len}`,
    );
  }
}

/** `o` without its undefined entries (so that spreading it over defaults keeps the defaults). */
export function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws E_NATIVE_ARG unless `path` is a non-empty string. */
export function checkPath(path: string): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new Recist3dError(
      'E_NATIVE_ARG',
      `Expected a non-empty file path but received ${JSON.stringify(path)}`,
    );
  }
}

/**
 * The calls on one native handle, in order: each is validated when it is made (so a bad call fails fast) and
 * runs after the handle's earlier calls have settled (a native handle runs one worker at a time).
 */
export class CallQueue<N> {
  #tail: Promise<unknown> = Promise.resolve();
  constructor(private readonly native: N) {}

  run<T>(what: string, site: Error, check: () => void, fn: (n: N) => Promise<T>): Promise<T> {
    try {
      check();
    } catch (e) {
      return Promise.reject(toNativeError(e, what, site));
    }
    const result = this.#tail.then(() => nativeCall(what, site, () => fn(this.native)));
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
