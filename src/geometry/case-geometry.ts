import { Recist3dError } from '../errors.js';
import type { Mask, Vec3, Volume } from '../types/volume.js';
import { gridOf, type Grid } from './affine.js';
import { resampleAxis } from './resample-core.js';

/** One grid change, with what is needed to undo it. All fields plain data (JSON-serialisable). */
export type GeometryStep =
  | { kind: 'crop'; beginIJK: Vec3; inputSize: Vec3; outputSize: Vec3 }
  | { kind: 'pad'; before: Vec3; after: Vec3; fill: number; inputSize: Vec3; outputSize: Vec3 }
  | {
      kind: 'resample';
      inputSize: Vec3;
      outputSize: Vec3;
      inputSpacingMm: Vec3;
      outputSpacingMm: Vec3;
      /** Input voxels per output voxel on each axis (output voxel x is centred at input index (x+0.5)*scale-0.5). */
      scale: Vec3;
    };

/**
 * How a working volume was derived from an input volume: the input grid (plus the input file's NIfTI header,
 * so a mask mapped back is written with the identical affine), the output grid, and the steps in order.
 */
export interface CaseGeometry {
  input: Grid & { meta: Record<string, unknown> };
  output: Grid;
  steps: GeometryStep[];
}

/** meta keys that describe the source file and survive into CaseGeometry.input. */
const SOURCE_META_KEYS = ['nifti', 'sourceFile'];

/** The geometry a volume already carries in meta.caseGeometry, or the identity on its own grid. */
export function geometryOf(vol: Volume): CaseGeometry {
  const g = vol.meta?.caseGeometry as CaseGeometry | undefined;
  if (g && Array.isArray(g.steps)) {
    if (g.output.size.some((n, a) => n !== vol.size[a]))
      throw new Recist3dError(
        'E_GEOMETRY',
        `meta.caseGeometry ends on a ${g.output.size.join('x')} grid but the volume is ${vol.size.join('x')}; ` +
          'pass chain: false to start a new geometry',
        { field: 'meta.caseGeometry' },
      );
    return g;
  }
  const meta: Record<string, unknown> = {};
  for (const k of SOURCE_META_KEYS) if (vol.meta && k in vol.meta) meta[k] = vol.meta[k];
  return { input: { ...gridOf(vol), meta }, output: gridOf(vol), steps: [] };
}

/** Appends a step to the volume's geometry (see `chain`) and builds the result volume. */
export function withStep<T extends Volume>(
  vol: Volume,
  out: Omit<T, 'meta'>,
  step: GeometryStep,
  chain: boolean,
): { volume: T; geometry: CaseGeometry } {
  const prev = chain
    ? geometryOf(vol)
    : geometryOf({ ...vol, meta: { ...vol.meta, caseGeometry: undefined } });
  const geometry: CaseGeometry = {
    input: prev.input,
    output: gridOf(out as unknown as Grid),
    steps: [...prev.steps, step],
  };
  const meta: Record<string, unknown> = { ...vol.meta, caseGeometry: geometry };
  delete meta.nifti; // the grid changed: the source header no longer describes this volume
  return { volume: { ...out, meta } as T, geometry };
}

/**
 * Maps a mask drawn on the working grid (geometry.output) back onto the input grid voxel for voxel, undoing
 * the steps in reverse: uncrop (zeros outside), unpad, and un-resample by area-weighted majority (each
 * input voxel takes the label covering at least half of it; exact for integer up-then-down sampling).
 * The result carries the input file's meta (NIfTI header), so writeNifti reproduces its affine.
 */
export function applyInverse(maskOnOutput: Mask, geometry: CaseGeometry): Mask {
  const o = geometry.output.size;
  if (maskOnOutput.size.some((s, a) => s !== o[a]))
    throw new Recist3dError(
      'E_GRID_MISMATCH',
      `Mask size ${maskOnOutput.size.join('x')} does not match the working grid ${o.join('x')}`,
      { field: 'size' },
    );
  let data: Uint8Array = maskOnOutput.data;
  for (let s = geometry.steps.length - 1; s >= 0; s--) {
    const step = geometry.steps[s];
    if (step.kind === 'crop') data = placeBlock(data, step.outputSize, step.inputSize, step.beginIJK);
    else if (step.kind === 'pad') data = takeBlock(data, step.outputSize, step.before, step.inputSize);
    else data = unresampleMask(data, step.outputSize, step.inputSize, step.scale);
  }
  const g = geometry.input;
  return {
    size: [...g.size] as Vec3,
    spacingMm: [...g.spacingMm] as Vec3,
    origin: [...g.origin] as Vec3,
    direction: [...g.direction] as typeof g.direction,
    data,
    meta: { ...g.meta },
  };
}

/** Copies a block of size `blockSize` into a zero volume of size `size` at `begin` (clipped). */
export function placeBlock(block: Uint8Array, blockSize: Vec3, size: Vec3, begin: Vec3): Uint8Array {
  const out = new Uint8Array(size[0] * size[1] * size[2]);
  const [bi, bj, bk] = blockSize;
  for (let k = 0; k < bk; k++) {
    const z = k + begin[2];
    if (z < 0 || z >= size[2]) continue;
    for (let j = 0; j < bj; j++) {
      const y = j + begin[1];
      if (y < 0 || y >= size[1]) continue;
      const i0 = Math.max(0, -begin[0]);
      const i1 = Math.min(bi, size[0] - begin[0]);
      if (i1 <= i0) continue;
      const src = bi * (j + bj * k);
      const dst = begin[0] + size[0] * (y + size[1] * z);
      out.set(block.subarray(src + i0, src + i1), dst + i0);
    }
  }
  return out;
}

/** The block of size `blockSize` at `begin` of a volume of size `size` (must lie inside). */
export function takeBlock<T extends Uint8Array | Int16Array | Float32Array>(
  data: T,
  size: Vec3,
  begin: Vec3,
  blockSize: Vec3,
): T {
  const [bi, bj, bk] = blockSize;
  const out = new (data.constructor as new (n: number) => T)(bi * bj * bk);
  for (let k = 0; k < bk; k++)
    for (let j = 0; j < bj; j++) {
      const src = begin[0] + size[0] * (begin[1] + j + size[1] * (begin[2] + k));
      out.set(data.subarray(src, src + bi) as never, bi * (j + bj * k));
    }
  return out;
}

/** Area-weighted majority from a grid of size `from` to one of size `to` covering the same extent. */
function unresampleMask(data: Uint8Array, from: Vec3, to: Vec3, scale: Vec3): Uint8Array {
  let f: Float32Array = Float32Array.from(data);
  let size: Vec3 = [...from] as Vec3;
  for (let axis = 0; axis < 3; axis++) {
    if (size[axis] === to[axis] && scale[axis] === 1) continue;
    const r = resampleAxis(f, size, axis, to[axis], 1 / scale[axis], 'area');
    f = r.data;
    size = r.size;
  }
  const out = new Uint8Array(f.length);
  for (let x = 0; x < f.length; x++) out[x] = f[x] >= 0.5 - 1e-6 ? 1 : 0;
  return out;
}
