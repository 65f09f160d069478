/**
 * `recist3d train` as a function: the 2D lesion CNN (HNN or UNet) of paper section 3.2, trained on the RECIST
 * slice of every lesion, from GrabCut-R masks, the RECIST trimap (uncertain pixels ignored) or the full masks.
 * It is the WSSS job with no self-paced round (same stages, same resume rule, same folder layout; see
 * wsss.ts), with the training schedule of Table 2 and stacks of the key slices only.
 */
import type { LesionRecord } from '../types/recist.js';
import { resolveOptions } from '../util/options.js';
import { NET_DEFAULTS } from '../steps/3-train.js';
import {
  trainWsss,
  trainWsssOnStacks,
  WSSS_DEFAULTS,
  type WsssHooks,
  type WsssOptions,
  type WsssResult,
} from './wsss.js';
import type { LesionStack } from '../types/stack.js';

/** The `train` job's options: a WSSS job without self-paced rounds. */
export type CnnTrainOptions = Omit<WsssOptions, 'rounds' | 'fineTune' | 'harvest'>;

/** Table 2's schedule: fewer epochs and earlier stopping than `run`'s round 0. */
export const CNN_TRAIN_DEFAULTS = {
  fit: { ...WSSS_DEFAULTS.fit, maxEpochs: 30, minEpochs: 6, stopPatience: 6, lrPatience: 3 },
} satisfies Required<Pick<CnnTrainOptions, 'fit'>>;

/** The WSSS options of a `train` job: round 0 only, stacks of the key slice (and its context slices). */
export function cnnTrainJob(options: CnnTrainOptions = {}): WsssOptions {
  const context = options.net?.context ?? NET_DEFAULTS.context;
  return {
    ...options,
    rounds: 0,
    fit: resolveOptions(CNN_TRAIN_DEFAULTS.fit, options.fit ?? {}),
    stack: { ...options.stack, maxOffset: context, marginSlices: context }, // as buildKeyStacks
  };
}

/** Trains on the RECIST slices of `records`; artifacts as in wsss.ts (the model is `outDir/model.pt`). */
export function trainCnn(
  records: readonly LesionRecord[],
  outDir: string,
  options: CnnTrainOptions = {},
  hooks: WsssHooks = {},
): Promise<WsssResult> {
  return trainWsss(records, outDir, cnnTrainJob(options), hooks);
}

/** Trains on prebuilt RECIST-slice stacks (cross-validation folds of Table 2). */
export function trainCnnOnStacks(
  stacks: readonly LesionStack[],
  outDir: string,
  options: CnnTrainOptions = {},
  hooks: WsssHooks = {},
): Promise<WsssResult> {
  return trainWsssOnStacks(stacks, outDir, cnnTrainJob(options), hooks);
}
