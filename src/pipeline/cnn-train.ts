/**
 * `recist3d train` as a function: a 2D lesion CNN (HNN or UNet) trained on the RECIST slice of every lesion
 * (paper section 3.2), from GrabCut-R masks, the RECIST trimap (uncertain pixels ignored) or the full masks.
 *
 * Artifacts in `outDir`: `model.pt/.json` (final = best-validation weights; the sidecar holds the training
 * history), `last.pt/.json` (weights + optimizer after the latest epoch, rewritten every epoch), `best.pt`
 * and `training-curve.svg`. A rerun with the same settings resumes from `last` (same per-epoch seeds, so
 * the result matches an uninterrupted run) and returns at once when `model.json` exists.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import { sliceMaskToRoi } from '../geometry/roi.js';
import { readMask } from '../io/nifti.js';
import type { SegNet } from '../model/binding.js';
import {
  loadCheckpoint,
  readSidecar,
  resumeRefused,
  saveCheckpoint,
  verifyCheckpoint,
  type CheckpointSidecar,
} from '../model/checkpoint.js';
import { lineChart } from '../report/svg.js';
import { subsetSamples } from '../train/dataset.js';
import { fit, type EpochRecord, type FitOptions } from '../train/fit.js';
import { splitByPatient } from '../train/split.js';
import type { LesionRecord } from '../types/recist.js';
import { exists, stageKey, writeFileAtomic } from './artifacts.js';
import { initialLabels, type HarvestOptions, type InitialLabels } from './harvest.js';
import { buildStacks, type LesionStack } from './stack.js';
import { createNet, samplesFromLabels, type NetOptions } from './train-stage.js';
import type { WsssHooks } from './wsss.js';

export interface CnnTrainOptions {
  /** Training labels on the RECIST slice: GrabCut-R masks, RECIST trimap (uncertain ignored), ground truth. */
  labels?: InitialLabels;
  /** Network (arch, base width, loss, init seed). */
  net?: NetOptions;
  /** ROI working size in pixels (the CNN input). */
  roiSize?: number;
  /** ROI side as a multiple of the RECIST bounding box. */
  roiScale?: number;
  /** Training loop (epochs, learning rate schedule, early stopping, augmentation). */
  fit?: FitOptions;
  /** Share of the training patients held out for early stopping. */
  valFraction?: number;
  /** Train only on lesions of these manifest splits; empty = every lesion. */
  trainSplits?: string[];
  /** Start from these weights: a checkpoint base (`DIR/model`), a `.pt` file, or a training folder. */
  init?: string;
  /** Options of GrabCut-R when labels = 'grabcut-r'. */
  harvest?: HarvestOptions;
  /** Seed of the patient split, shuffling and augmentation. */
  seed?: number;
}

export const CNN_TRAIN_DEFAULTS = {
  labels: 'grabcut-r',
  net: {} as NetOptions,
  roiSize: 64,
  roiScale: 2,
  fit: { maxEpochs: 30, minEpochs: 6, stopPatience: 6, lrPatience: 3 },
  valFraction: 0.15,
  trainSplits: [] as string[],
  init: '',
  harvest: {} as HarvestOptions,
  seed: 0,
} satisfies Required<CnnTrainOptions>;

export interface CnnTrainResult {
  /** The trained network (best validation weights); the caller disposes it. */
  net: SegNet;
  sidecar: CheckpointSidecar;
  history: EpochRecord[];
  /** True when `model.json` already existed and nothing was trained. */
  reused: boolean;
  /** Lesions whose stack could not be built (bad RECIST, unreadable image). */
  failures: { lesionId: string; code: string; message: string }[];
}

/** Reads the RECIST-slice ground truth of a stack, resampled onto its ROI (undefined without a mask). */
export async function truthOnRoi(s: LesionStack): Promise<Uint8Array | undefined> {
  if (!s.record.maskPath) return undefined;
  const m = await readMask(s.record.maskPath);
  const plane = m.size[0] * m.size[1];
  return sliceMaskToRoi(
    m.data.subarray(s.record.keySlice * plane, (s.record.keySlice + 1) * plane),
    s.keyRoi.geometry,
  );
}

/** Builds the RECIST-slice ROI of each record (one ROI per lesion, no neighbouring slices). */
export function buildKeyStacks(
  records: readonly LesionRecord[],
  roi: { roiSize: number; roiScale: number },
  onEach?: (done: number, total: number) => void,
) {
  return buildStacks(records, { ...roi, maxOffset: 0, marginSlices: 0 }, onEach);
}

/** Trains on the RECIST slices of `records` (stacks are built here; see `trainCnnOnStacks`). */
export async function trainCnn(
  records: readonly LesionRecord[],
  outDir: string,
  options: CnnTrainOptions = {},
  hooks: WsssHooks = {},
): Promise<CnnTrainResult> {
  const o = { ...CNN_TRAIN_DEFAULTS, ...options };
  const chosen = o.trainSplits.length
    ? records.filter((r) => o.trainSplits.includes(r.split ?? ''))
    : records;
  if (chosen.length === 0) {
    throw new Recist3dError(
      'E_CONFIG',
      `No lesion of the manifest is in the training splits ${o.trainSplits.join(', ')}`,
    );
  }
  hooks.stage?.('roi', chosen.length);
  const t0 = performance.now();
  const built = await buildKeyStacks(chosen, o, (d) => hooks.tick?.(d));
  hooks.stageEnd?.('roi', (performance.now() - t0) / 1000);
  const stacks = built.flatMap((r) => (r.ok ? [r.stack] : []));
  const failures = built.flatMap((r) =>
    r.ok ? [] : [{ lesionId: r.record.lesionId, code: r.error.code, message: r.error.message }],
  );
  const result = await trainCnnOnStacks(stacks, outDir, { ...o, trainSplits: [] }, hooks);
  return { ...result, failures: [...failures, ...result.failures] };
}

/** Trains on prebuilt RECIST-slice stacks (all of them) and writes the artifacts to `outDir`. */
export async function trainCnnOnStacks(
  stacks: readonly LesionStack[],
  outDir: string,
  options: CnnTrainOptions = {},
  hooks: WsssHooks = {},
): Promise<CnnTrainResult> {
  const o = { ...CNN_TRAIN_DEFAULTS, ...options, fit: { ...CNN_TRAIN_DEFAULTS.fit, ...options.fit } };
  if (stacks.length === 0) throw new Recist3dError('E_CONFIG', 'No lesion to train on');
  const size = stacks[0].keyRoi.geometry.sizePx;
  const { onEpoch: _e, onStep: _s, bestPath: _b, resumeHistory: _r, ...fitSettings } = o.fit;
  const key = stageKey({
    lesions: stacks.map((s) => [s.record.lesionId, s.record.imagePath, s.record.keySlice, s.record.recist]),
    labels: o.labels,
    net: o.net,
    size,
    roiScale: o.roiScale,
    fit: fitSettings,
    valFraction: o.valFraction,
    init: o.init,
    seed: o.seed,
  });
  const modelBase = join(outDir, 'model');
  const lastBase = join(outDir, 'last');
  if (await exists(`${modelBase}.json`)) {
    const side = await readSidecar(modelBase);
    if (side.provenance.runKey === key) {
      const { net, sidecar } = await loadCheckpoint(modelBase);
      const history = (sidecar.metrics.history ?? []) as EpochRecord[];
      return { net, sidecar, history, reused: true, failures: [] };
    }
    throw new Recist3dError(
      'E_CONFIG',
      `${outDir} holds a model trained with other settings or lesions; choose another --out or pass --force`,
      { file: `${modelBase}.json` },
    );
  }
  await mkdir(outDir, { recursive: true });

  hooks.stage?.(`labels (${o.labels})`, stacks.length);
  const tLabels = performance.now();
  const truth = new Map<string, Uint8Array>();
  if (o.labels === 'full') {
    let done = 0;
    for (const s of stacks) {
      const t = await truthOnRoi(s).catch(() => undefined);
      if (t) truth.set(s.record.lesionId, t);
      hooks.tick?.(++done);
    }
  }
  const labels = await initialLabels(stacks, o.labels, (s) => truth.get(s.record.lesionId), o.harvest);
  hooks.tick?.(stacks.length);
  const labelSeconds = (performance.now() - tLabels) / 1000;
  hooks.stageEnd?.(`labels (${o.labels})`, labelSeconds, { labels: labels.length });
  const failures = stacks
    .filter((s) => o.labels === 'full' && !truth.has(s.record.lesionId))
    .map((s) => ({
      lesionId: s.record.lesionId,
      code: 'E_FILE_NOT_FOUND',
      message: 'no readable ground-truth mask for --labels full; lesion left out of training',
    }));

  if (labels.length === 0) {
    throw new Recist3dError(
      'E_CONFIG',
      `No training labels: --labels ${o.labels} produced none for ${stacks.length} lesions` +
        (o.labels === 'full' ? ' (no readable mask column)' : ''),
    );
  }
  const byId = new Map(stacks.map((s) => [s.record.lesionId, s]));
  const all = samplesFromLabels(labels, byId, size);
  const split = splitByPatient(all, { valFraction: o.valFraction, seed: o.seed });
  const train = subsetSamples(all, split.train);
  const val = split.val.length ? subsetSamples(all, split.val) : undefined;

  const net = createNet(size, { ...o.net, seed: o.net.seed ?? o.seed });
  const input = { roiScale: o.roiScale, window: 'record-or-category' };
  const info = {
    runKey: key,
    labels: o.labels,
    roiSize: size,
    trainLesions: train.n,
    valLesions: val?.n ?? 0,
    trainPatients: new Set(train.patientIds).size,
    valPatients: new Set(val?.patientIds ?? []).size,
    fit: fitSettings,
    init: o.init,
  };
  try {
    let resumeHistory: EpochRecord[] = [];
    if (await exists(`${lastBase}.json`)) {
      const side = await readSidecar(lastBase);
      if (side.provenance.runKey !== key) {
        throw new Recist3dError(
          'E_CONFIG',
          `${outDir} holds an unfinished run with other settings or lesions; choose another --out or pass --force`,
          { file: `${lastBase}.json` },
        );
      }
      await verifyCheckpoint(lastBase).catch(resumeRefused);
      await net.load(`${lastBase}.pt`);
      resumeHistory = (side.metrics.history ?? []) as EpochRecord[];
    } else if (o.init) {
      const init = await initWeightsPath(o.init);
      await verifyCheckpoint(init.replace(/\.pt$/, ''));
      await net.load(init);
    }
    const maxEpochs = o.fit.maxEpochs ?? 40;
    hooks.stage?.(`train ${net.config.arch}`, maxEpochs);
    if (resumeHistory.length)
      hooks.tick?.(resumeHistory.length, `resumed after epoch ${resumeHistory.length}`);
    const history: EpochRecord[] = [...resumeHistory];
    const tTrain = performance.now();
    const r = await fit(net, train, val, {
      ...o.fit,
      seed: o.seed,
      bestPath: join(outDir, 'best.pt'),
      resumeHistory,
      onEpoch: async (e) => {
        history.push(e);
        await saveCheckpoint(net, lastBase, { input, metrics: { history }, extra: info });
        hooks.tick?.(e.epoch, `loss ${e.trainLoss.toFixed(4)} val Dice ${e.valDice.toFixed(3)}`);
        hooks.epoch?.(0, e);
      },
    });
    const trainSeconds = r.history.reduce((a, e) => a + e.seconds, 0);
    hooks.stageEnd?.(`train ${net.config.arch}`, (performance.now() - tTrain) / 1000, {
      epochs: r.history.length,
      bestEpoch: r.bestEpoch,
      bestValDice: Number(r.bestValDice.toFixed(4)),
    });
    const metrics = {
      epochs: r.history.length,
      bestEpoch: r.bestEpoch,
      bestValDice: r.bestValDice,
      stoppedEarly: r.stoppedEarly,
      trainSeconds,
      labelSeconds,
      trainLesions: train.n,
      valLesions: val?.n ?? 0,
      history: r.history,
    };
    await saveCheckpoint(net, modelBase, { input, metrics, extra: info });
    await writeFileAtomic(join(outDir, 'training-curve.svg'), trainingCurveSvg(r.history, net.config.arch));
    const sidecar = await readSidecar(modelBase);
    return { net, sidecar, history: r.history, reused: false, failures };
  } catch (e) {
    net.dispose();
    throw e;
  }
}

/** `--init`: a .pt file, a checkpoint base (`X` for `X.pt`) or a training folder (its `model.pt`). */
export async function initWeightsPath(init: string): Promise<string> {
  for (const p of [init, `${init}.pt`, join(init, 'model.pt')]) {
    if (p.endsWith('.pt') && (await exists(p))) return p;
  }
  throw new Recist3dError(
    'E_FILE_NOT_FOUND',
    `No weights found for --init ${init} (tried X, X.pt, X/model.pt)`,
    {
      file: init,
    },
  );
}

/** Training loss and validation Dice per epoch as an SVG line chart. */
export function trainingCurveSvg(history: readonly EpochRecord[], arch: string): string {
  return lineChart(
    [
      { name: 'train loss', points: history.map((e) => [e.epoch, e.trainLoss]) },
      { name: 'validation Dice (vs training labels)', points: history.map((e) => [e.epoch, e.valDice]) },
    ],
    {
      title: `${arch} training`,
      xLabel: 'epoch',
      yLabel: 'loss / Dice',
      yRange: [0, Math.max(1, ...history.map((e) => e.trainLoss))],
    },
  );
}
