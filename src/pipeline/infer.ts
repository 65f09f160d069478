/** CNN inference on ROI stacks: windowed 8-bit ROI images -> probability maps, batched. */
import type { SegNet } from '../model/binding.js';
import { estimateRecist3d } from '../recist/estimate3d.js';
import { recistToRoi } from '../geometry/roi.js';
import { rasterizeEllipse } from '../trimap/raster.js';
import { stackImage, type LesionStack } from './stack.js';

export interface SliceRef {
  stack: LesionStack;
  k: number;
}

/** Network input for one ROI image: 8-bit window mapped to [0, 1], one channel. */
export function toInput(image: Uint8Array, out: Float32Array, offset = 0): void {
  for (let p = 0; p < image.length; p++) out[offset + p] = image[p] / 255;
}

/**
 * The network input of slice k of a stack, written at `offset` of `out`: channel 0 is the windowed image in
 * [0, 1]; with `channels` = 2, channel 1 is a RECIST prior: the ellipse of the (estimated, on off-key slices)
 * RECIST of that slice, 0 where the estimate says the lesion has ended. Slices outside the stack stay 0.
 */
export function stackInput(s: LesionStack, k: number, channels: number, out: Float32Array, offset = 0): void {
  const img = stackImage(s, k);
  if (!img) return;
  toInput(img, out, offset);
  if (channels < 2) return;
  const n = s.keyRoi.geometry.sizePx;
  const r = estimateRecist3d(s.record.recist, s.record.keySlice, s.image.spacingMm, k - s.record.keySlice);
  if (!r) return;
  const prior = rasterizeEllipse(recistToRoi(s.keyRoi.geometry, r), n);
  for (let p = 0; p < n * n; p++) out[offset + n * n + p] = prior[p];
}

/**
 * Probability maps (n*n each) for the given slices, in order. Batches of `chunk` images are sent to the
 * engine at once, so memory stays bounded on large cohorts.
 */
export async function predictSlices(
  net: SegNet,
  refs: readonly SliceRef[],
  chunk = 256,
): Promise<Float32Array[]> {
  const n = net.config.size;
  const c = net.config.inChannels;
  const px = n * n;
  const out: Float32Array[] = [];
  for (let start = 0; start < refs.length; start += chunk) {
    const part = refs.slice(start, start + chunk);
    const x = new Float32Array(part.length * c * px);
    part.forEach((r, i) => stackInput(r.stack, r.k, c, x, i * c * px));
    const prob = await net.predict(x, part.length, { batchSize: 64 });
    part.forEach((_, i) => out.push(prob.slice(i * px, (i + 1) * px)));
  }
  return out;
}
