/** CNN inference on ROI stacks: windowed 8-bit ROI images -> probability maps, batched. */
import type { SegNet } from '../model/binding.js';
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
 * Probability maps (n*n each) for the given slices, in order. Batches of `chunk` images are sent to the
 * engine at once, so memory stays bounded on large cohorts.
 */
export async function predictSlices(
  net: SegNet,
  refs: readonly SliceRef[],
  chunk = 256,
): Promise<Float32Array[]> {
  const n = net.config.size;
  const px = n * n;
  const out: Float32Array[] = [];
  for (let start = 0; start < refs.length; start += chunk) {
    const part = refs.slice(start, start + chunk);
    const x = new Float32Array(part.length * px);
    part.forEach((r, i) => {
      const img = stackImage(r.stack, r.k);
      if (img) toInput(img, x, i * px);
    });
    const prob = await net.predict(x, part.length, { batchSize: 64 });
    part.forEach((_, i) => out.push(prob.slice(i * px, (i + 1) * px)));
  }
  return out;
}
