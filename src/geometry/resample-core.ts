import type { Vec3 } from '../types/volume.js';

/** How one output sample is computed from input samples along an axis. */
export type AxisMode = 'linear' | 'nearest' | 'area';

interface Taps {
  index: Int32Array;
  weight: Float32Array;
  /** taps of output x are [start[x], start[x+1]). */
  start: Int32Array;
}

/**
 * Sampling weights along one axis. Output voxel x is centred at input index (x + 0.5) * scale - 0.5 and covers
 * input indices [x * scale - 0.5, (x + 1) * scale - 0.5] (voxel edges aligned at the start of the axis).
 */
function axisTaps(nIn: number, nOut: number, scale: number, mode: AxisMode): Taps {
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(nOut + 1);
  const clamp = (i: number) => Math.min(nIn - 1, Math.max(0, i));
  for (let x = 0; x < nOut; x++) {
    start[x] = index.length;
    const pos = (x + 0.5) * scale - 0.5;
    if (mode === 'nearest') {
      index.push(clamp(Math.round(pos + 1e-9)));
      weight.push(1);
    } else if (mode === 'linear') {
      const p = Math.min(nIn - 1, Math.max(0, pos));
      const i0 = Math.floor(p);
      const t = p - i0;
      index.push(i0);
      weight.push(1 - t);
      if (t > 0 && i0 + 1 < nIn) {
        index.push(i0 + 1);
        weight.push(t);
      }
    } else {
      const lo = Math.max(-0.5, x * scale - 0.5);
      const hi = Math.min(nIn - 0.5, (x + 1) * scale - 0.5);
      const ws: number[] = [];
      const is: number[] = [];
      let total = 0;
      for (let i = Math.max(0, Math.floor(lo + 0.5)); i < nIn && i - 0.5 < hi; i++) {
        const w = Math.min(hi, i + 0.5) - Math.max(lo, i - 0.5);
        if (w > 1e-9) {
          is.push(i);
          ws.push(w);
          total += w;
        }
      }
      if (total === 0) {
        index.push(clamp(Math.round(pos)));
        weight.push(1);
      } else
        for (let q = 0; q < is.length; q++) {
          index.push(is[q]);
          weight.push(ws[q] / total);
        }
    }
  }
  start[nOut] = index.length;
  return { index: Int32Array.from(index), weight: Float32Array.from(weight), start };
}

/** Resamples `data` (size `size`, i fastest) along `axis` to `nOut` samples; other axes unchanged. */
export function resampleAxis(
  data: ArrayLike<number>,
  size: Vec3,
  axis: number,
  nOut: number,
  scale: number,
  mode: AxisMode,
): { data: Float32Array; size: Vec3 } {
  const outSize: Vec3 = [...size] as Vec3;
  outSize[axis] = nOut;
  const taps = axisTaps(size[axis], nOut, scale, mode);
  const stride = axis === 0 ? 1 : axis === 1 ? size[0] : size[0] * size[1];
  const outStride = axis === 0 ? 1 : axis === 1 ? outSize[0] : outSize[0] * outSize[1];
  const inner = stride; // contiguous run below the axis
  const outer = (size[0] * size[1] * size[2]) / (stride * size[axis]);
  const out = new Float32Array(outSize[0] * outSize[1] * outSize[2]);
  for (let o = 0; o < outer; o++) {
    const inBase = o * stride * size[axis];
    const outBase = o * outStride * nOut;
    for (let x = 0; x < nOut; x++) {
      const dst = outBase + x * outStride;
      for (let t = taps.start[x]; t < taps.start[x + 1]; t++) {
        const w = taps.weight[t];
        const src = inBase + taps.index[t] * stride;
        for (let r = 0; r < inner; r++) out[dst + r] += w * data[src + r];
      }
    }
  }
  return { data: out, size: outSize };
}
