/** CNN inference on ROI stacks: windowed 8-bit ROI images -> probability maps, batched. */
import type { SegNet } from './binding.js';
import { estimateRecist3d } from '../recist/estimate3d.js';
import { recistToRoi } from '../geometry/roi.js';
import { rasterizeEllipse } from '../trimap/raster.js';
import { stackImage, type LesionStack } from '../types/stack.js';
import { Recist3dError } from '../errors.js';
import type { CheckpointInput } from './checkpoint.js';

export interface SliceRef {
  stack: LesionStack;
  k: number;
}

/** Network input for one ROI image: 8-bit window mapped to [0, 1], one channel. */
export function toInput(image: Uint8Array, out: Float32Array, offset = 0): void {
  for (let p = 0; p < image.length; p++) out[offset + p] = image[p] / 255;
}

/**
 * How a network's input channels are made, in order: `2 * context + 1` image channels (slices
 * k-context..k+context), with `sr` the stacked GAN's denoised and enhanced images of slice k (HNN-SR, paper
 * section 3.4), then with `prior` the RECIST prior. Checkpoints record it in their sidecar (`input`, see
 * `inputLayoutOf`); older sidecars without `input.sr` were decoded from the channel count (`inputLayout`).
 */
export interface InputLayout {
  /** Neighbouring slices on each side of slice k given as extra image channels (2.5D context). */
  context: number;
  /** Two channels after the image slices: G1's denoised and G2's enhanced image of slice k. */
  sr: boolean;
  /** A last channel with the ellipse of the slice's (estimated) RECIST. */
  prior: boolean;
}

export function inputChannels(layout: InputLayout): number {
  return 2 * layout.context + 1 + (layout.sr ? 2 : 0) + (layout.prior ? 1 : 0);
}

/**
 * The layout of a network without SR channels, decoded from its channel count (even: the last one is the
 * prior). Only for networks that record no layout: with SR channels the count is ambiguous.
 */
export function inputLayout(channels: number): InputLayout {
  const prior = channels % 2 === 0;
  return { context: (channels - 1 - (prior ? 1 : 0)) / 2, sr: false, prior };
}

/** The layout a checkpoint sidecar records (`input.context`, `input.sr`, `input.prior`). */
export function inputLayoutOf(input: Pick<CheckpointInput, 'context' | 'sr' | 'prior'>): InputLayout {
  return { context: input.context, sr: input.sr !== null, prior: input.prior === 'recist-ellipse' };
}

/**
 * The network input of slice k of a stack, written at `offset` of `out` (see `InputLayout`): the windowed
 * images in [0, 1] of slices k-context..k+context (a neighbour beyond the stack repeats its edge slice), with
 * `sr` the denoised and the enhanced image of slice k, then with the prior the ellipse of the (estimated, on
 * off-key slices) RECIST of slice k, 0 where the estimate says the lesion has ended. Slices outside the stack
 * stay 0. A layout with `sr` on a stack without SR images is E_PIPELINE.
 */
export function stackInput(
  s: LesionStack,
  k: number,
  layout: InputLayout,
  out: Float32Array,
  offset = 0,
): void {
  const img = stackImage(s, k);
  if (!img) return;
  const { context, sr, prior } = layout;
  const n = s.keyRoi.geometry.sizePx;
  const px = n * n;
  for (let c = -context; c <= context; c++) {
    const kk = Math.min(s.kMax, Math.max(s.kMin, k + c));
    toInput(stackImage(s, kk)!, out, offset + (c + context) * px);
  }
  let next = 2 * context + 1;
  if (sr) {
    if (!s.srDenoised || !s.srEnhanced)
      throw new Recist3dError(
        'E_PIPELINE',
        `The network takes SR channels but the ROI stack of lesion ${s.record.lesionId} has no denoised/enhanced images (run with --sr)`,
        { lesionId: s.record.lesionId },
      );
    toInput(s.srDenoised[k - s.kMin], out, offset + next++ * px);
    toInput(s.srEnhanced[k - s.kMin], out, offset + next++ * px);
  }
  if (!prior) return;
  const r = estimateRecist3d(s.record.recist, s.record.keySlice, s.image.spacingMm, k - s.record.keySlice);
  if (!r) return;
  const ellipse = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, r), n);
  out.set(ellipse, offset + next * px);
}

/**
 * `layout` checked against the network's channel count, or (undefined) the layout decoded from that count.
 * A layout that does not fit the network is E_CONFIG.
 */
export function netLayout(net: SegNet, layout?: InputLayout): InputLayout {
  if (!layout) return inputLayout(net.config.inChannels);
  if (inputChannels(layout) !== net.config.inChannels)
    throw new Recist3dError(
      'E_CONFIG',
      `The input layout ${JSON.stringify(layout)} makes ${inputChannels(layout)} channels but the network takes ${net.config.inChannels}`,
    );
  return layout;
}

/** A flip of an n*n image (in place into `out`): none, left-right, up-down, or both (a 180° rotation). */
export type Flip = 'none' | 'x' | 'y' | 'xy';

/** Flips each of `count` n*n planes of `src` into `dst` (flips are their own inverse). */
export function flipPlanes(src: Float32Array, dst: Float32Array, n: number, count: number, flip: Flip): void {
  const fx = flip === 'x' || flip === 'xy';
  const fy = flip === 'y' || flip === 'xy';
  const px = n * n;
  for (let c = 0; c < count; c++) {
    const o = c * px;
    for (let y = 0; y < n; y++) {
      const sy = fy ? n - 1 - y : y;
      for (let x = 0; x < n; x++) dst[o + y * n + x] = src[o + sy * n + (fx ? n - 1 - x : x)];
    }
  }
}

export interface PredictOptions {
  /** Images per engine call, so memory stays bounded on large cohorts. */
  chunk?: number;
  /**
   * Test-time augmentation: average the maps of the image and its left-right, up-down and 180° flips (the
   * network was trained with those flips). Four times the inference cost.
   */
  tta?: boolean;
  /** How the inputs are made (default: decoded from the network's channel count, no SR channels). */
  layout?: InputLayout | undefined;
}

/** Probability maps (n*n each) for the given slices, in order. */
export async function predictSlices(
  net: SegNet,
  refs: readonly SliceRef[],
  options: PredictOptions = {},
): Promise<Float32Array[]> {
  const { chunk = 256, tta = false } = options;
  const layout = netLayout(net, options.layout);
  const n = net.config.size;
  const c = net.config.inChannels;
  const px = n * n;
  const out: Float32Array[] = [];
  for (let start = 0; start < refs.length; start += chunk) {
    const part = refs.slice(start, start + chunk);
    const x = new Float32Array(part.length * c * px);
    part.forEach((r, i) => stackInput(r.stack, r.k, layout, x, i * c * px));
    const prob = tta
      ? await predictFlipAveraged(net, x, part.length)
      : await net.predict(x, part.length, BATCH);
    part.forEach((_, i) => out.push(prob.slice(i * px, (i + 1) * px)));
  }
  return out;
}

const BATCH = { batchSize: 64 };
const TTA_FLIPS: Flip[] = ['x', 'y', 'xy'];

/** The mean of the maps of `x` and of its three flips (each map flipped back before averaging). */
async function predictFlipAveraged(net: SegNet, x: Float32Array, count: number): Promise<Float32Array> {
  const n = net.config.size;
  const sum = await net.predict(x, count, BATCH);
  const xf = new Float32Array(x.length);
  const back = new Float32Array(sum.length);
  for (const flip of TTA_FLIPS) {
    flipPlanes(x, xf, n, count * net.config.inChannels, flip);
    flipPlanes(await net.predict(xf, count, BATCH), back, n, count, flip);
    for (let p = 0; p < sum.length; p++) sum[p] += back[p];
  }
  for (let p = 0; p < sum.length; p++) sum[p] /= TTA_FLIPS.length + 1;
  return sum;
}
