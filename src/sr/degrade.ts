/**
 * The degradations that make the stacked GAN's training pairs (paper section 3.4) and the image operations
 * they need, on single-channel float images (row-major h*w, intensities in [0, 1]):
 * - G1 (denoiser): a clean crop and the same crop plus white Gaussian noise of sigma in (0, 50] / 255;
 * - G2 (enhancer): a clean crop and the same crop downsampled by s in [1, 4], blurred with a Gaussian of
 *   sigma in (0, 3] pixels (of the downsampled image), contrast-compressed by kappa in [1, 3] about its mean,
 *   then upsampled by s back to the crop's size (bicubic, as G2 upsamples at inference).
 */
import type { Rng } from '../util/random.js';

/** A single-channel float image, row-major. */
export interface GrayImage {
  h: number;
  w: number;
  data: Float32Array;
}

/** The ranges the degradations are drawn from (the paper's). */
export const DEGRADE_RANGES = {
  /** G1: noise standard deviation, in 8-bit grey levels (divided by 255 for [0, 1] images): (0, 50]. */
  noiseSigma: [0, 50],
  /** G2: downsampling factor s: [1, 4]. */
  scale: [1, 4],
  /** G2: Gaussian blur sigma in pixels of the downsampled image: (0, 3]. */
  blurSigma: [0, 3],
  /** G2: contrast compression rate kappa: [1, 3]. */
  contrast: [1, 3],
} as const;

/** The `size` x `size` window of `img` whose top-left corner is (x0, y0). */
export function crop(img: GrayImage, x0: number, y0: number, size: number): GrayImage {
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++)
    out.set(img.data.subarray((y0 + y) * img.w + x0, (y0 + y) * img.w + x0 + size), y * size);
  return { h: size, w: size, data: out };
}

/** A uniformly placed `size` x `size` crop (the image must be at least that large). */
export function randomCrop(img: GrayImage, size: number, rng: Rng): GrayImage {
  return crop(img, rng.int(img.w - size + 1), rng.int(img.h - size + 1), size);
}

/** A draw from (lo, hi]: never exactly lo (so sigma > 0). */
function openLow(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return hi - (hi - lo) * rng.next();
}

/** `img` plus white Gaussian noise of standard deviation `sigma` (same scale as the image). */
export function addNoise(img: GrayImage, sigma: number, rng: Rng): GrayImage {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] + sigma * rng.normal();
  return { ...img, data: out };
}

/** The cubic convolution kernel with a = -0.75 (torch's and OpenCV's bicubic). */
function cubic(t: number): number {
  const a = -0.75;
  const x = Math.abs(t);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

/** Resamples one axis: `n` samples of `src` (stride 1) to `m`, half-pixel centres, clamped borders. */
function resampleLine(
  src: Float32Array,
  n: number,
  m: number,
  dst: Float32Array,
  dstStride: number,
  dstOff: number,
): void {
  const scale = n / m;
  for (let j = 0; j < m; j++) {
    const c = (j + 0.5) * scale - 0.5;
    const i0 = Math.floor(c);
    let acc = 0;
    for (let k = -1; k <= 2; k++) {
      const i = Math.min(n - 1, Math.max(0, i0 + k));
      acc += src[i] * cubic(c - (i0 + k));
    }
    dst[dstOff + j * dstStride] = acc;
  }
}

/**
 * Bicubic resize to oh x ow (separable, half-pixel centres, clamped borders; no anti-aliasing, as
 * torch's interpolate(mode='bicubic', align_corners=false)).
 */
export function resizeBicubic(img: GrayImage, oh: number, ow: number): GrayImage {
  const { h, w } = img;
  const rows = new Float32Array(h * ow);
  for (let y = 0; y < h; y++) resampleLine(img.data.subarray(y * w, (y + 1) * w), w, ow, rows, 1, y * ow);
  const out = new Float32Array(oh * ow);
  const col = new Float32Array(h);
  for (let x = 0; x < ow; x++) {
    for (let y = 0; y < h; y++) col[y] = rows[y * ow + x];
    resampleLine(col, h, oh, out, ow, x);
  }
  return { h: oh, w: ow, data: out };
}

/** Separable Gaussian blur of standard deviation `sigma` pixels (radius ceil(3 sigma), mirrored borders). */
export function gaussianBlur(img: GrayImage, sigma: number): GrayImage {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const { h, w } = img;
  const mirror = (i: number, n: number): number => {
    if (n === 1) return 0;
    let j = i;
    while (j < 0 || j >= n) j = j < 0 ? -j : 2 * (n - 1) - j;
    return j;
  };
  const tmp = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += k[i + r] * img.data[y * w + mirror(x + i, w)];
      tmp[y * w + x] = acc;
    }
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) acc += k[i + r] * tmp[mirror(y + i, h) * w + x];
      out[y * w + x] = acc;
    }
  return { h, w, data: out };
}

/** Contrast compression by `kappa` >= 1 about the image mean: m + (v - m) / kappa. */
export function compressContrast(img: GrayImage, kappa: number): GrayImage {
  let m = 0;
  for (const v of img.data) m += v;
  m /= img.data.length;
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = m + (img.data[i] - m) / kappa;
  return { ...img, data: out };
}

/** The degradation parameters of one G2 pair. */
export interface EnhanceDegradation {
  scale: number;
  blurSigma: number;
  contrast: number;
}

/** A G1 input: `clean` plus noise of a sigma drawn from (0, 50] grey levels. */
export function degradeForDenoiser(clean: GrayImage, rng: Rng): { input: GrayImage; sigma: number } {
  const sigma = openLow(rng, DEGRADE_RANGES.noiseSigma) / 255;
  return { input: addNoise(clean, sigma, rng), sigma };
}

/** A G2 input with given parameters: down by s, blur, contrast compression, bicubic up to the clean size. */
export function degradeWith(clean: GrayImage, d: EnhanceDegradation): GrayImage {
  const sh = Math.max(1, Math.round(clean.h / d.scale)),
    sw = Math.max(1, Math.round(clean.w / d.scale));
  const small = sh === clean.h && sw === clean.w ? clean : resizeBicubic(clean, sh, sw);
  return resizeBicubic(compressContrast(gaussianBlur(small, d.blurSigma), d.contrast), clean.h, clean.w);
}

/** A G2 input with parameters drawn from the paper's ranges. */
export function degradeForEnhancer(
  clean: GrayImage,
  rng: Rng,
): { input: GrayImage; degradation: EnhanceDegradation } {
  const degradation = {
    scale: rng.uniform(...DEGRADE_RANGES.scale),
    blurSigma: openLow(rng, DEGRADE_RANGES.blurSigma),
    contrast: rng.uniform(...DEGRADE_RANGES.contrast),
  };
  return { input: degradeWith(clean, degradation), degradation };
}
