/**
 * Cuts the axial slab the viewer shows around a lesion from its image and masks: full in-plane slices k0..k1.
 * The CT slab is sent as an uncompressed NIfTI on the slab's own grid (origin moved to slice k0), so NiiVue
 * places it in world space; masks are sent as raw bytes on the same grid.
 */
import { Recist3dError } from '../errors.js';
import { niftiHeaderFor } from '../io/nifti.js';
import { writeNiftiHeader } from '../io/nifti-header.js';
import type { Vec3, Volume } from '../types/volume.js';
import type { LesionInfo, SlabInfo } from './api-types.js';
import { resolveOptions } from '../util/options.js';

export interface SlabRangeOptions {
  /** Slices shown beyond each end of the lesion, at least. */
  marginSlices?: number;
  /** ... or this share of the lesion's extent, when larger. */
  marginFraction?: number;
}

const DEFAULTS = { marginSlices: 4, marginFraction: 0.5 } satisfies Required<SlabRangeOptions>;

/** The slab [k0, k1] of an image with `nk` slices around the lesion's slices (or its key slice). */
export function slabRange(lesion: LesionInfo, nk: number, options: SlabRangeOptions = {}): [number, number] {
  const o = resolveOptions(DEFAULTS, options);
  const key = lesion.keySlice ?? Math.floor(nk / 2);
  let lo = Math.min(key, lesion.sliceFirst ?? key);
  let hi = Math.max(key, lesion.sliceLast ?? key);
  const margin = Math.max(o.marginSlices, Math.ceil(o.marginFraction * (hi - lo + 1)));
  lo = Math.max(0, lo - margin);
  hi = Math.min(nk - 1, hi + margin);
  if (lo > hi)
    throw new Recist3dError('E_GEOMETRY', `Key slice ${key} is outside the ${nk} slices of the image`);
  return [lo, hi];
}

export function slabInfo(vol: Pick<Volume, 'size' | 'spacingMm'>, [k0, k1]: [number, number]): SlabInfo {
  return {
    size: [vol.size[0], vol.size[1], k1 - k0 + 1],
    k0,
    k1,
    spacingMm: [...vol.spacingMm] as Vec3,
  };
}

/** Slices k0..k1 of `vol` as a Volume whose origin is slice k0's (same direction and spacing). */
export function cutSlab(vol: Volume, [k0, k1]: [number, number]): Volume {
  const plane = vol.size[0] * vol.size[1];
  const d = vol.direction;
  const dz = vol.spacingMm[2] * k0;
  const origin: Vec3 = [vol.origin[0] + d[2] * dz, vol.origin[1] + d[5] * dz, vol.origin[2] + d[8] * dz];
  return {
    size: [vol.size[0], vol.size[1], k1 - k0 + 1],
    spacingMm: vol.spacingMm,
    origin,
    direction: vol.direction,
    data: vol.data.subarray(k0 * plane, (k1 + 1) * plane),
    meta: {},
  };
}

/** An uncompressed NIfTI-1 (.nii) of `vol`. */
export function niftiBytes(vol: Volume): Buffer {
  const header = writeNiftiHeader(niftiHeaderFor(vol, 'recist3d serve slab'));
  const body = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  return Buffer.concat([header, body]);
}

/**
 * Packs up to 8 masks of one grid into one byte per voxel (bit b = mask b), slices k0..k1. A missing mask leaves
 * its bit 0. Masks must have the slab's in-plane size.
 */
export function packMasks(
  masks: (Volume | undefined)[],
  [k0, k1]: [number, number],
  plane: number,
): Uint8Array {
  const out = new Uint8Array(plane * (k1 - k0 + 1));
  masks.forEach((m, bit) => {
    if (!m) return;
    if (m.size[0] * m.size[1] !== plane || m.size[2] <= k1)
      throw new Recist3dError(
        'E_GRID_MISMATCH',
        `Mask grid ${m.size.join('x')} does not hold the slab's slices ${k0}..${k1}`,
        { file: String(m.meta.sourceFile ?? '') },
      );
    const src = m.data.subarray(k0 * plane, (k1 + 1) * plane);
    const b = 1 << bit;
    for (let x = 0; x < out.length; x++) if (src[x] !== 0) out[x] |= b;
  });
  return out;
}
