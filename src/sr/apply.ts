/**
 * Inference of the stacked GAN: G1 denoises, G2 enhances G1's output (upsampled bicubically by `zoom` first),
 * on images in [0, 1]; and the same on every axial slice of a CT volume through an HU window.
 */
import type { SrGan } from '../model/binding.js';
import { toInput } from '../model/infer.js';
import type { Volume, Vec3 } from '../types/volume.js';

export interface SrModels {
  g1: SrGan;
  g2: SrGan;
}

export interface SrImages {
  /** G1's output, n*h*w. */
  denoised: Float32Array;
  /** G2's output on the denoised images, n*round(h*zoom)*round(w*zoom). */
  enhanced: Float32Array;
}

/** Denoised and enhanced versions of n h*w images in [0, 1]. */
export async function superResolve(
  m: SrModels,
  x: Float32Array,
  n: number,
  h: number,
  w: number,
  zoom = 1,
): Promise<SrImages> {
  const denoised = await m.g1.apply(x, n, h, w);
  const enhanced = await m.g2.apply(denoised, n, h, w, { zoom });
  return { denoised, enhanced };
}

/** 8-bit versions of SrImages (values in [0, 1] clamped and scaled to 0..255, rounded). */
export interface SrImages8 {
  denoised: Uint8Array[];
  enhanced: Uint8Array[];
}

/** A [0, 1] value clamped and rounded to 8 bits. */
function to8bit(v: number): number {
  return Math.round(255 * clamp01(v));
}

/** An 8-bit square image (a windowed ROI) and its side. */
export interface SquareImage {
  image: Uint8Array;
  n: number;
}

/**
 * The denoised and enhanced (zoom 1) versions of 8-bit square images (windowed ROIs) of any sides, in input
 * order: the images are grouped by side, and each group goes through the generators `perCall` images per
 * native call. The inputs are image/255; the outputs are clamped to [0, 1] and stored as 8 bits again.
 * `onImages(done, total)` after each call.
 */
export async function superResolve8bit(
  m: SrModels,
  images: readonly SquareImage[],
  perCall = Number.POSITIVE_INFINITY,
  onImages: (done: number, total: number) => void = () => {},
): Promise<SrImages8> {
  const out: SrImages8 = { denoised: new Array(images.length), enhanced: new Array(images.length) };
  const bySide = new Map<number, number[]>();
  images.forEach(({ n }, k) => bySide.set(n, [...(bySide.get(n) ?? []), k]));
  let done = 0;
  for (const [n, ks] of bySide) {
    const px = n * n;
    for (let start = 0; start < ks.length; start += perCall) {
      const part = ks.slice(start, start + perCall);
      const x = new Float32Array(part.length * px);
      part.forEach((k, i) => toInput(images[k].image, x, i * px));
      const r = await superResolve(m, x, part.length, n, n);
      part.forEach((k, i) => {
        out.denoised[k] = to8bitImage(r.denoised, i * px, px);
        out.enhanced[k] = to8bitImage(r.enhanced, i * px, px);
      });
      done += part.length;
      onImages(done, images.length);
    }
  }
  return out;
}

/** `px` values of `a` from `offset`, clamped to [0, 1] and rounded to 8 bits. */
function to8bitImage(a: Float32Array, offset: number, px: number): Uint8Array {
  const out = new Uint8Array(px);
  for (let p = 0; p < px; p++) out[p] = to8bit(a[offset + p]);
  return out;
}

export interface VolumeSrOptions {
  /** HU window mapped to [0, 1] before the networks and back after them (values outside are clipped). */
  windowHu: readonly [number, number];
  /** In-plane upsampling of the enhanced volume; default 1. */
  zoom?: number;
  /** Axial slices per call; default 4. */
  slicesPerCall?: number;
  /** Called after each group of slices. */
  onSlices?: (done: number, total: number) => void;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * The denoised and enhanced versions of a CT volume (float32 HU, within the window), slice by slice. The enhanced one has
 * round(nx*zoom) x round(ny*zoom) voxels in plane, its spacing divided by the effective zoom and its origin moved
 * so that it covers the same extent as the input.
 */
export async function superResolveVolume(
  m: SrModels,
  vol: Volume,
  o: VolumeSrOptions,
): Promise<{ denoised: Volume<Float32Array>; enhanced: Volume<Float32Array> }> {
  const zoom = o.zoom ?? 1;
  const per = o.slicesPerCall ?? 4;
  const [nx, ny, nz] = vol.size;
  const [lo, hi] = o.windowHu;
  const plane = nx * ny;
  const ox = Math.round(nx * zoom),
    oy = Math.round(ny * zoom);
  const denoised = new Float32Array(plane * nz);
  const enhanced = new Float32Array(ox * oy * nz);
  for (let k0 = 0; k0 < nz; k0 += per) {
    const n = Math.min(per, nz - k0);
    const x = new Float32Array(n * plane);
    for (let i = 0; i < n * plane; i++)
      x[i] = Math.min(1, Math.max(0, (vol.data[k0 * plane + i] - lo) / (hi - lo)));
    // NIfTI's i runs fastest: an axial slice is a row-major image of ny rows and nx columns.
    const r = await superResolve(m, x, n, ny, nx, zoom);
    for (let i = 0; i < r.denoised.length; i++)
      denoised[k0 * plane + i] = lo + clamp01(r.denoised[i]) * (hi - lo);
    for (let i = 0; i < r.enhanced.length; i++)
      enhanced[k0 * ox * oy + i] = lo + clamp01(r.enhanced[i]) * (hi - lo);
    o.onSlices?.(k0 + n, nz);
  }
  const zx = ox / nx,
    zy = oy / ny;
  const [sx, sy, sz] = vol.spacingMm;
  const d = vol.direction;
  // New voxel 0's centre lies at old index (0.5 / z - 0.5) along each in-plane axis.
  const ax = (0.5 / zx - 0.5) * sx,
    ay = (0.5 / zy - 0.5) * sy;
  const origin: Vec3 = [0, 1, 2].map(
    (r) => vol.origin[r] + d[r * 3] * ax + d[r * 3 + 1] * ay,
  ) as unknown as Vec3;
  const base = { direction: vol.direction, meta: { description: 'recist3d sr' } };
  return {
    denoised: { ...base, size: vol.size, spacingMm: vol.spacingMm, origin: vol.origin, data: denoised },
    enhanced: { ...base, size: [ox, oy, nz], spacingMm: [sx / zx, sy / zy, sz], origin, data: enhanced },
  };
}
