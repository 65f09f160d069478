import { Recist3dError } from '../errors.js';
import type { Vec3, Volume, VoxelData } from '../types/volume.js';
import { voxelToWorld } from './affine.js';
import { withStep, type CaseGeometry } from './case-geometry.js';
import { resampleAxis } from './resample-core.js';
import { resolveOptions } from '../util/options.js';

export interface ResampleOptions {
  /** Target size in voxels (the physical extent is kept; spacing = old extent / new size). */
  size?: Vec3;
  /** Target spacing in mm (size = round(extent / spacing), at least 1; spacing kept exactly). */
  spacingMm?: Vec3;
  /** 'linear' (trilinear) or 'nearest'; 'auto' = nearest for Uint8Array data (masks), linear otherwise. */
  interpolation?: 'auto' | 'linear' | 'nearest';
  /** Append to the geometry the volume already carries in meta.caseGeometry (false: start afresh). */
  chain?: boolean;
}

const DEFAULTS = {
  size: [0, 0, 0],
  spacingMm: [0, 0, 0],
  interpolation: 'auto',
  chain: true,
} satisfies Required<ResampleOptions>;

/**
 * Resamples a volume to a target size or spacing (give exactly one). Voxel edges stay aligned at the start of
 * each axis: output voxel x is centred at input index (x + 0.5) * scale - 0.5 with scale = input voxels per
 * output voxel; the origin moves accordingly. Int16 results are rounded, Uint8 (nearest) kept exact.
 */
export function resample<T extends VoxelData>(
  vol: Volume<T>,
  options: ResampleOptions,
): { volume: Volume<T>; geometry: CaseGeometry } {
  const o = resolveOptions(DEFAULTS, options);
  if ((options.size === undefined) === (options.spacingMm === undefined))
    throw new Recist3dError('E_GEOMETRY', 'resample needs exactly one of size or spacingMm', {
      field: 'size',
    });
  const size: Vec3 = [0, 0, 0];
  const scale: Vec3 = [1, 1, 1];
  const spacingMm: Vec3 = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    if (options.size) {
      const n = o.size[a];
      if (!(Number.isInteger(n) && n >= 1))
        throw new Recist3dError('E_GEOMETRY', `Target size[${a}] must be a positive integer, got ${n}`, {
          field: `size[${a}]`,
        });
      size[a] = n;
      scale[a] = vol.size[a] / n;
      spacingMm[a] = vol.spacingMm[a] * scale[a];
    } else {
      const s = o.spacingMm[a];
      if (!(Number.isFinite(s) && s > 0))
        throw new Recist3dError('E_SPACING_INVALID', `Target spacingMm[${a}] must be positive, got ${s}`, {
          field: `spacingMm[${a}]`,
        });
      scale[a] = s / vol.spacingMm[a];
      size[a] = Math.max(1, Math.round(vol.size[a] / scale[a]));
      spacingMm[a] = s;
    }
  }
  const mode =
    o.interpolation === 'auto' ? (vol.data instanceof Uint8Array ? 'nearest' : 'linear') : o.interpolation;
  let f: ArrayLike<number> = vol.data;
  let cur: Vec3 = [...vol.size] as Vec3;
  for (let a = 0; a < 3; a++) {
    if (cur[a] === size[a] && scale[a] === 1) continue;
    const r = resampleAxis(f, cur, a, size[a], scale[a], mode);
    f = r.data;
    cur = r.size;
  }
  const Ctor = vol.data.constructor as new (n: number) => T;
  let data: T;
  if (f === vol.data) data = vol.data.slice() as T;
  else if (vol.data instanceof Float32Array) data = f as T;
  else {
    data = new Ctor(f.length);
    for (let x = 0; x < f.length; x++) data[x] = Math.round(f[x]);
  }
  const out = {
    size,
    spacingMm,
    origin: voxelToWorld(vol, [0.5 * scale[0] - 0.5, 0.5 * scale[1] - 0.5, 0.5 * scale[2] - 0.5]),
    direction: [...vol.direction] as Volume['direction'],
    data,
  };
  return withStep<Volume<T>>(
    vol,
    out,
    {
      kind: 'resample',
      inputSize: [...vol.size] as Vec3,
      outputSize: size,
      inputSpacingMm: [...vol.spacingMm] as Vec3,
      outputSpacingMm: spacingMm,
      scale,
    },
    o.chain,
  );
}
