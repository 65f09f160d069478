import { Recist3dError } from '../errors.js';
import type { Mask, Vec3, Volume, VoxelData } from '../types/volume.js';
import { voxelToWorld } from './affine.js';
import { takeBlock, withStep, type CaseGeometry } from './case-geometry.js';
import { resolveOptions } from '../util/options.js';

export interface CropOptions {
  /** First voxel [i, j, k] of the box (inclusive, 0-based). */
  beginIJK: Vec3;
  /** Box size in voxels; the box must lie inside the volume (use pad first otherwise). */
  sizeIJK: Vec3;
  /** Append to the geometry the volume already carries in meta.caseGeometry (false: start afresh). */
  chain?: boolean;
}

export interface PadOptions {
  /** HU (or label) value of the added voxels, e.g. -1024 for CT air, 0 for masks. Stated on purpose. */
  fill: number;
  /** Voxels added before index 0 on each axis. */
  before?: Vec3;
  /** Voxels added after the last index on each axis. */
  after?: Vec3;
  /** Alternatively: pad (centred, odd voxel after) up to at least this size; combined with before/after. */
  toSize?: Vec3;
  /** Append to the geometry the volume already carries in meta.caseGeometry (false: start afresh). */
  chain?: boolean;
}

const CROP_DEFAULTS = {
  beginIJK: [0, 0, 0],
  sizeIJK: [1, 1, 1],
  chain: true,
} satisfies Required<CropOptions>;
const PAD_DEFAULTS = {
  fill: 0,
  before: [0, 0, 0],
  after: [0, 0, 0],
  toSize: [0, 0, 0],
  chain: true,
} satisfies Required<PadOptions>;

/** The sub-volume in a box; origin moves to the box's first voxel. Pure: the input is not modified. */
export function crop<T extends VoxelData>(
  vol: Volume<T>,
  options: CropOptions,
): { volume: Volume<T>; geometry: CaseGeometry } {
  const o = resolveOptions(CROP_DEFAULTS, options);
  for (let a = 0; a < 3; a++) {
    const b = o.beginIJK[a];
    const s = o.sizeIJK[a];
    if (!(Number.isInteger(b) && Number.isInteger(s) && b >= 0 && s >= 1 && b + s <= vol.size[a]))
      throw new Recist3dError(
        'E_GEOMETRY',
        `Crop box axis ${a} [${b}, ${b + s}) is not inside 0..${vol.size[a]} (use pad first)`,
        { field: `beginIJK[${a}]` },
      );
  }
  const data = takeBlock(vol.data, vol.size, o.beginIJK, o.sizeIJK);
  const out = {
    size: [...o.sizeIJK] as Vec3,
    spacingMm: [...vol.spacingMm] as Vec3,
    origin: voxelToWorld(vol, o.beginIJK),
    direction: [...vol.direction] as Volume['direction'],
    data,
  };
  return withStep<Volume<T>>(
    vol,
    out,
    {
      kind: 'crop',
      beginIJK: [...o.beginIJK] as Vec3,
      inputSize: [...vol.size] as Vec3,
      outputSize: out.size,
    },
    o.chain,
  );
}

/** Adds voxels of value `fill` around the volume; origin moves back by `before` voxels. */
export function pad<T extends VoxelData>(
  vol: Volume<T>,
  options: PadOptions,
): { volume: Volume<T>; geometry: CaseGeometry } {
  const o = resolveOptions(PAD_DEFAULTS, options);
  const before = [...o.before] as Vec3;
  const after = [...o.after] as Vec3;
  for (let a = 0; a < 3; a++) {
    const extra = Math.max(0, o.toSize[a] - (vol.size[a] + before[a] + after[a]));
    before[a] += Math.floor(extra / 2);
    after[a] += Math.ceil(extra / 2);
    if (!(Number.isInteger(before[a]) && Number.isInteger(after[a]) && before[a] >= 0 && after[a] >= 0))
      throw new Recist3dError('E_GEOMETRY', `Padding on axis ${a} must be non-negative integers`, {
        field: `before[${a}]`,
      });
  }
  const [lo, hi] =
    vol.data instanceof Uint8Array
      ? [0, 255]
      : vol.data instanceof Int16Array
        ? [-32768, 32767]
        : [-Infinity, Infinity];
  if (!(Number.isFinite(o.fill) && o.fill >= lo && o.fill <= hi))
    throw new Recist3dError('E_GEOMETRY', `Pad fill ${o.fill} does not fit the volume's data type`, {
      field: 'fill',
    });
  const size: Vec3 = [
    vol.size[0] + before[0] + after[0],
    vol.size[1] + before[1] + after[1],
    vol.size[2] + before[2] + after[2],
  ];
  const data = new (vol.data.constructor as new (n: number) => T)(size[0] * size[1] * size[2]);
  if (o.fill !== 0) data.fill(o.fill);
  const [ni, nj, nk] = vol.size;
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++) {
      const src = ni * (j + nj * k);
      const dst = before[0] + size[0] * (before[1] + j + size[1] * (before[2] + k));
      data.set(vol.data.subarray(src, src + ni) as never, dst);
    }
  const out = {
    size,
    spacingMm: [...vol.spacingMm] as Vec3,
    origin: voxelToWorld(vol, [-before[0], -before[1], -before[2]]),
    direction: [...vol.direction] as Volume['direction'],
    data,
  };
  return withStep<Volume<T>>(
    vol,
    out,
    { kind: 'pad', before, after, fill: o.fill, inputSize: [...vol.size] as Vec3, outputSize: size },
    o.chain,
  );
}

/** Tight bounding box of the non-zero voxels, grown by `marginVoxels` and clipped to the volume. */
export function maskBoundingBox(
  mask: Mask,
  marginVoxels: Vec3 = [0, 0, 0],
): { beginIJK: Vec3; sizeIJK: Vec3 } {
  const [ni, nj, nk] = mask.size;
  const lo: Vec3 = [ni, nj, nk];
  const hi: Vec3 = [-1, -1, -1];
  for (let k = 0, x = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++, x++)
        if (mask.data[x]) {
          if (i < lo[0]) lo[0] = i;
          if (i > hi[0]) hi[0] = i;
          if (j < lo[1]) lo[1] = j;
          if (j > hi[1]) hi[1] = j;
          if (k < lo[2]) lo[2] = k;
          if (k > hi[2]) hi[2] = k;
        }
  if (hi[0] < 0) throw new Recist3dError('E_MASK_EMPTY', 'The mask has no non-zero voxels');
  const beginIJK = lo.map((l, a) => Math.max(0, l - marginVoxels[a])) as Vec3;
  const end = hi.map((h, a) => Math.min(mask.size[a] - 1, h + marginVoxels[a])) as Vec3;
  return { beginIJK, sizeIJK: end.map((e, a) => e - beginIJK[a] + 1) as Vec3 };
}
