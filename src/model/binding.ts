/**
 * The one typed seam to the native engine (build/Release/recist3d.node: libtorch + OpenCV): GrabCut, engine
 * info, threads and the SegNet class. The addon itself is loaded lazily by the private module native.ts on
 * first use, so importing this module for types never fails when the addon has not been built. Every native
 * call goes through `nativeCall`/`nativeCallSync`, which turn native errors into `Recist3dError`s carrying the
 * native `code` and the caller's stack.
 */
import { Recist3dError } from '../errors.js';
import {
  NATIVE_LIMITS,
  checkArray,
  checkInt,
  nativeCall,
  nativeCallSync,
  toNativeError,
  type EngineInfo,
  type GrabCutBatch,
  type GrabCutResult,
} from './native.js';

export {
  ADDON_PATH,
  GRABCUT_STATUS,
  NATIVE_LIMITS,
  type Arch,
  type EngineInfo,
  type EpochOptions,
  type GrabCutBatch,
  type GrabCutResult,
  type NetConfig,
  type SrConfig,
  type SrLosses,
  type TrainBatch,
} from './native.js';

/** GrabCut on every image of the batch (in parallel inside one worker); resolves with the n*h*w masks. */
export async function grabCut(batch: GrabCutBatch): Promise<Uint8Array> {
  const site = new Error();
  return (await grabCutAt(batch, site)).masks;
}

/** Like `grabCut`, plus a per-image status (images whose trimap cannot seed GrabCut fall back to FG|PR_FG). */
export function grabCutWithStatus(batch: GrabCutBatch): Promise<GrabCutResult> {
  return grabCutAt(batch, new Error());
}

async function grabCutAt(b: GrabCutBatch, site: Error): Promise<GrabCutResult> {
  try {
    const n = checkInt(b.n, 'grabCut n', 0);
    const h = checkInt(b.h, 'grabCut h', 1, NATIVE_LIMITS.maxSize);
    const w = checkInt(b.w, 'grabCut w', 1, NATIVE_LIMITS.maxSize);
    checkInt(b.iterations, 'grabCut iterations', 1, NATIVE_LIMITS.maxIterations);
    if (h * w > NATIVE_LIMITS.maxGrabCutPixels) {
      throw new Recist3dError(
        'E_NATIVE_ARG',
        `grabCut images of ${h}*${w} pixels exceed the ${NATIVE_LIMITS.maxGrabCutPixels} pixels OpenCV's graph can index`,
      );
    }
    checkArray(b.images, 'Uint8Array', 'grabCut images', n * h * w * 3, `n*h*w*3 (${n}*${h}*${w}*3)`);
    checkArray(b.trimaps, 'Uint8Array', 'grabCut trimaps', n * h * w, `n*h*w (${n}*${h}*${w})`);
    const bad = b.trimaps.findIndex((v) => v > 3);
    if (bad >= 0) {
      throw new Recist3dError(
        'E_NATIVE_ARG',
        `grabCut trimap label ${b.trimaps[bad]} at image ${Math.floor(bad / (h * w))}, pixel ${bad % (h * w)} is not one of BG=0 FG=1 PR_BG=2 PR_FG=3`,
      );
    }
  } catch (e) {
    throw toNativeError(e, 'grabCut', site);
  }
  return nativeCall('grabCut', site, (a) => a.grabCut(b.images, b.trimaps, b.n, b.h, b.w, b.iterations));
}

/** Versions, threads and device of the native engine (loads the addon). */
export function engineInfo(): EngineInfo {
  return nativeCallSync('engineInfo', (a) => a.engineInfo());
}

/** Sets libtorch intra-op threads and OpenCV threads (inter-op threads are fixed at load). */
export function setThreads(n: number): void {
  const site = new Error();
  try {
    checkInt(n, 'setThreads(n)', 1, NATIVE_LIMITS.maxThreads);
  } catch (e) {
    throw toNativeError(e, 'setThreads', site);
  }
  nativeCallSync('setThreads', (a) => a.setThreads(n));
}

export { SegNet } from './segnet.js';
export { SrGan, srPassBatch, type SrApplyOptions } from './sr-gan.js';
export { readDistEnv, type DistEnv } from './dist-env.js';
export {
  JOIN_DEFAULTS,
  TIMEOUT_VARIABLE,
  allReduceMean,
  joinFromEnv,
  joinProcessGroup,
  leaveProcessGroup,
  processGroup,
  type GroupInfo,
  type JoinOptions,
} from './process-group.js';
