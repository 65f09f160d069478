/** Rasterising RECIST marks onto a square ROI grid (continuous coordinates, pixel centres at integers). */
import type { PointIJ, Recist } from '../types/recist.js';
import { squaredDistanceMm2 } from '../metrics/distance.js';

/** 1 on every pixel a RECIST axis passes through (dense sampling of both segments), n * n values. */
export function rasterizeAxes(r: Recist, n: number): Uint8Array {
  const out = new Uint8Array(n * n);
  for (const [a, b] of [r.long, r.short]) drawSegment(out, n, a, b);
  return out;
}

function drawSegment(out: Uint8Array, n: number, a: PointIJ, b: PointIJ): void {
  const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const steps = Math.max(1, Math.ceil(len * 4));
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    const u = Math.round(a[0] + t * (b[0] - a[0]));
    const v = Math.round(a[1] + t * (b[1] - a[1]));
    if (u >= 0 && v >= 0 && u < n && v < n) out[u + n * v] = 1;
  }
}

/**
 * The RECIST ellipse: centred on the long axis' midpoint, along the long axis, semi-axes half the long and
 * half the short axis length, optionally scaled. 1 inside, n * n values.
 */
export function rasterizeEllipse(r: Recist, n: number, scale = 1): Uint8Array {
  const [p, q] = r.long;
  const cx = (p[0] + q[0]) / 2;
  const cy = (p[1] + q[1]) / 2;
  const longLen = Math.hypot(q[0] - p[0], q[1] - p[1]);
  const shortLen = Math.hypot(r.short[1][0] - r.short[0][0], r.short[1][1] - r.short[0][1]);
  const a = Math.max(0.5, (scale * longLen) / 2);
  const b = Math.max(0.5, (scale * shortLen) / 2);
  const ux = longLen > 0 ? (q[0] - p[0]) / longLen : 1;
  const uy = longLen > 0 ? (q[1] - p[1]) / longLen : 0;
  const out = new Uint8Array(n * n);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const dx = u - cx;
      const dy = v - cy;
      const s = dx * ux + dy * uy;
      const t = -dx * uy + dy * ux;
      if ((s * s) / (a * a) + (t * t) / (b * b) <= 1) out[u + n * v] = 1;
    }
  }
  return out;
}

/** Squared Euclidean distance in pixels^2 (integers) from every pixel to the nearest non-zero pixel of `seed`. */
export function squaredDistancePx2(seed: ArrayLike<number>, n: number): Float64Array {
  return squaredDistanceMm2(seed, [n, n, 1], [1, 1, 1]);
}

/** Euclidean distance in pixels from every pixel of the n x n grid to the nearest non-zero pixel of `seed`. */
export function distanceToPx(seed: ArrayLike<number>, n: number): Float64Array {
  const d2 = squaredDistanceMm2(seed, [n, n, 1], [1, 1, 1]);
  for (let i = 0; i < d2.length; i++) d2[i] = Math.sqrt(d2[i]);
  return d2;
}

/**
 * Pixel indices sorted by ascending `key` (ties by index, so the order is deterministic). Keys that are all
 * non-negative integers (squared pixel distances) or +Infinity take a fast path: (key, index) packed into
 * one float64 and sorted natively.
 */
export function rankBy(key: ArrayLike<number>): Int32Array {
  const n = key.length;
  const idxBits = 2 ** Math.max(1, Math.ceil(Math.log2(n + 1)));
  let packable = n < 2 ** 24;
  let maxFinite = 0;
  for (let i = 0; i < n && packable; i++) {
    const k = key[i];
    if (k === Infinity) continue;
    if (!(k >= 0 && Number.isInteger(k))) packable = false;
    else if (k > maxFinite) maxFinite = k;
  }
  if (packable && (maxFinite + 2) * idxBits < 2 ** 53) {
    const packed = new Float64Array(n);
    for (let i = 0; i < n; i++) packed[i] = (key[i] === Infinity ? maxFinite + 1 : key[i]) * idxBits + i;
    packed.sort();
    return Int32Array.from(packed, (v) => v % idxBits);
  }
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  return idx.sort((a, b) => key[a] - key[b] || a - b);
}

/**
 * Grows `seed` by distance until it holds `count` pixels (the seed itself is always kept, even if larger).
 */
export function dilateToCount(seed: ArrayLike<number>, n: number, count: number): Uint8Array {
  const order = rankBy(squaredDistancePx2(seed, n));
  const out = new Uint8Array(n * n);
  for (let i = 0; i < order.length; i++) if (seed[i] !== 0) out[i] = 1;
  for (let r = 0; r < Math.min(count, order.length); r++) out[order[r]] = 1;
  return out;
}

/**
 * Square (box) dilation of a w*h binary mask by rx pixels along x and ry along y, separable in two passes.
 * Returns a new mask; a pixel is set when any mask pixel lies within (rx, ry) of it (Chebyshev box).
 */
export function dilateBox(mask: ArrayLike<number>, w: number, h: number, rx: number, ry: number): Uint8Array {
  const rows = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      let v = 0;
      for (let a = Math.max(0, i - rx); a <= Math.min(w - 1, i + rx) && !v; a++) v = mask[a + w * j] ? 1 : 0;
      rows[i + w * j] = v;
    }
  }
  const out = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      let v = 0;
      for (let b = Math.max(0, j - ry); b <= Math.min(h - 1, j + ry) && !v; b++) v = rows[i + w * b];
      out[i + w * j] = v;
    }
  }
  return out;
}

/**
 * 1 where a pixel of `box` ([i0, j0, i1, j1] inclusive, i fastest) projects within each RECIST axis' extent
 * along that axis' own direction, measured in mm with `spacingMm`, widened by `tol[axis]` x the axis' length
 * plus half a pixel; an axis with a negative tolerance or no length bounds nothing. The long axis is the
 * lesion's longest diameter on its slice, so nothing of the lesion lies beyond its ends.
 */
export function axesSlab(
  r: Recist,
  box: readonly [number, number, number, number],
  spacingMm: readonly [number, number],
  tol: readonly [number, number],
): Uint8Array {
  const [i0, j0, i1, j1] = box;
  const w = i1 - i0 + 1;
  const out = new Uint8Array(w * (j1 - j0 + 1)).fill(1);
  const [sx, sy] = spacingMm;
  [r.long, r.short].forEach(([a, b], axis) => {
    if (tol[axis] < 0) return;
    const dx = (b[0] - a[0]) * sx;
    const dy = (b[1] - a[1]) * sy;
    const len = Math.hypot(dx, dy);
    if (!(len > 0)) return;
    const ux = dx / len;
    const uy = dy / len;
    const t = tol[axis] * len + 0.5 * Math.min(sx, sy);
    for (let j = j0; j <= j1; j++)
      for (let i = i0; i <= i1; i++) {
        const proj = (i - a[0]) * sx * ux + (j - a[1]) * sy * uy;
        if (proj < -t || proj > len + t) out[i - i0 + w * (j - j0)] = 0;
      }
  });
  return out;
}
