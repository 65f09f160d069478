/**
 * Optional real lesion shapes: binary 3D masks (uint8 NIfTI, e.g.
 * $RECIST3D_SHARED_DATA/lesion-shapes/<kind>/) turned into a signed distance field, so a phantom can use a
 * real lesion's shape instead of a procedural one. Procedural shapes stay the default; this module is used
 * only when a shape library folder is given.
 */
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Recist3dError } from '../errors.js';
import { recistFromMask } from '../recist/from-mask.js';
import { IDENTITY_DIRECTION, type Mask, type Mat3, type Vec3 } from '../types/volume.js';
import type { PhantomCategory } from './sample.js';
import type { Sdf } from './scene.js';

/** Which shape kinds (sub-folders of the library) fit each DeepLesion category. */
export const CATEGORY_SHAPE_KINDS: Record<PhantomCategory, string[]> = {
  bone: ['bone'],
  abdomen: ['lymph_node_abdomen', 'deeplesion3d_manual'],
  mediastinum: ['lymph_node_mediastinum'],
  liver: ['liver', 'deeplesion3d_manual'],
  lung: ['lung_msd'],
  kidney: ['kidney'],
  soft_tissue: ['deeplesion3d_manual'],
  pelvis: ['lymph_node_abdomen', 'deeplesion3d_manual'],
};

const listings = new Map<string, string[]>();

/** Largest decompressed shape file read (a lesion's bounding box: real ones are well under 10 MB). */
const MAX_SHAPE_BYTES = 256 * 2 ** 20;

/** Mask files (relative to `dir`, sorted) that fit `category`; empty when the folder is missing. */
export function listShapeFiles(dir: string, category: PhantomCategory): string[] {
  const out: string[] = [];
  for (const kind of CATEGORY_SHAPE_KINDS[category]) {
    const key = join(dir, kind);
    if (!listings.has(key)) {
      listings.set(
        key,
        existsSync(key)
          ? readdirSync(key)
              .filter((f) => /\.nii(\.gz)?$/.test(f))
              .sort()
          : [],
      );
    }
    for (const f of listings.get(key)!) out.push(join(kind, f));
  }
  return out;
}

/**
 * Reads a uint8 NIfTI-1 mask synchronously (only what a shape needs: size, spacing, voxels). A file that
 * cannot be read, is not a regular file, or is truncated or corrupt is E_FILE_UNREADABLE / E_NIFTI_TRUNCATED /
 * E_NIFTI_CORRUPT naming it and the --shape-library option; a readable mask of an unusable kind (not uint8,
 * big-endian) is E_NIFTI_UNSUPPORTED, and the phantom falls back to a procedural shape for it.
 */
export function readShapeMask(path: string): Mask {
  const ctx = { file: path, field: '--shape-library' };
  let buf: Buffer;
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    buf = readFileSync(path);
  } catch (e) {
    throw new Recist3dError(
      'E_FILE_UNREADABLE',
      `lesion shape cannot be read: ${(e as Error).message}`,
      ctx,
      {
        cause: e,
      },
    );
  }
  if (path.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf, { maxOutputLength: MAX_SHAPE_BYTES });
    } catch (e) {
      const msg = (e as Error).message;
      const cut = /unexpected end/i.test(msg) || (e as { code?: string }).code === 'Z_BUF_ERROR';
      throw new Recist3dError(
        cut ? 'E_NIFTI_TRUNCATED' : 'E_NIFTI_CORRUPT',
        `lesion shape is ${cut ? 'truncated' : 'not valid gzip'}: ${msg}`,
        ctx,
        { cause: e },
      );
    }
  }
  const fail = (why: string): never => {
    throw new Recist3dError('E_NIFTI_UNSUPPORTED', `lesion shape ${why}`, ctx);
  };
  if (buf.length < 352 || buf.readInt32LE(0) !== 348) fail('is not a little-endian NIfTI-1 file');
  const size: Vec3 = [buf.readInt16LE(42), buf.readInt16LE(44), buf.readInt16LE(46)];
  const spacingMm: Vec3 = [buf.readFloatLE(80), buf.readFloatLE(84), buf.readFloatLE(88)].map(
    Math.abs,
  ) as Vec3;
  if (!size.every((d) => d >= 1)) fail(`has dimensions ${size.join('x')}`);
  if (!spacingMm.every((d) => Number.isFinite(d) && d > 0)) fail(`has voxel size ${spacingMm.join('x')}`);
  if (buf.readInt16LE(70) !== 2) fail(`must be uint8 (datatype 2), found ${buf.readInt16LE(70)}`);
  const offset = buf.readFloatLE(108);
  if (!(Number.isInteger(offset) && offset >= 352))
    throw new Recist3dError('E_NIFTI_CORRUPT', `lesion shape has vox_offset ${offset}, expected >= 352`, ctx);
  const n = size[0] * size[1] * size[2];
  if (buf.length < offset + n)
    throw new Recist3dError(
      'E_NIFTI_TRUNCATED',
      `lesion shape is truncated: ${n} voxels from byte ${offset} need ${offset + n} bytes, the file has ${buf.length}`,
      ctx,
    );
  const data = new Uint8Array(n);
  for (let t = 0; t < n; t++) data[t] = buf[offset + t] ? 1 : 0;
  return {
    size,
    spacingMm,
    origin: [0, 0, 0],
    direction: [...IDENTITY_DIRECTION] as Mat3,
    data,
    meta: { source: path },
  };
}

/**
 * Chamfer distance (mm) from every voxel to the nearest voxel whose mask value is `target` (26-neighbour,
 * two passes). Works on a copy padded by one voxel so the inner loop needs no bounds checks.
 */
function chamfer(mask: Uint8Array, size: Vec3, sp: Vec3, target: number): Float32Array {
  const [ni, nj, nk] = size;
  const pi = ni + 2;
  const pj = nj + 2;
  const d = new Float32Array(pi * pj * (nk + 2)).fill(1e9);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++)
        if (mask[i + ni * (j + nj * k)] === target) d[i + 1 + pi * (j + 1 + pj * (k + 1))] = 0;
  const off: number[] = [];
  const wt: number[] = [];
  for (let dk = -1; dk <= 0; dk++)
    for (let dj = -1; dj <= 1; dj++)
      for (let di = -1; di <= 1; di++) {
        if (dk === 0 && (dj > 0 || (dj === 0 && di >= 0))) continue;
        off.push(di + pi * (dj + pj * dk));
        wt.push(Math.hypot(di * sp[0], dj * sp[1], dk * sp[2]));
      }
  const m = off.length;
  for (let k = 1; k <= nk; k++)
    for (let j = 1; j <= nj; j++)
      for (let i = 1, idx = 1 + pi * (j + pj * k); i <= ni; i++, idx++) {
        let best = d[idx];
        for (let q = 0; q < m; q++) {
          const v = d[idx + off[q]] + wt[q];
          if (v < best) best = v;
        }
        d[idx] = best;
      }
  for (let k = nk; k >= 1; k--)
    for (let j = nj; j >= 1; j--)
      for (let i = ni, idx = ni + pi * (j + pj * k); i >= 1; i--, idx--) {
        let best = d[idx];
        for (let q = 0; q < m; q++) {
          const v = d[idx - off[q]] + wt[q];
          if (v < best) best = v;
        }
        d[idx] = best;
      }
  const out = new Float32Array(mask.length);
  for (let k = 0; k < nk; k++)
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) out[i + ni * (j + nj * k)] = d[i + 1 + pi * (j + 1 + pj * (k + 1))];
  return out;
}

/** A real shape ready for sampling: signed distance (mm, negative inside) on the source grid. */
export interface LibraryShape {
  file: string;
  size: Vec3;
  spacingMm: Vec3;
  sdfMm: Float32Array;
  /** Lesion centroid in source mm. */
  centroidMm: Vec3;
  /** Reader-style long and short axis (mm) on the source mask's largest slice. */
  longMm: number;
  shortMm: number;
  /** Half extents (mm) of the lesion around its centroid, in source mm (x, y, z). */
  halfExtentMm: Vec3;
}

/** Builds a LibraryShape from a binary mask. */
export function libraryShape(mask: Mask, file: string): LibraryShape {
  const { size, spacingMm: sp, data } = mask;
  const [ni, nj] = size;
  if (Math.min(...size) < 2)
    throw new Recist3dError('E_MASK_EMPTY', 'lesion shape is thinner than 2 voxels', { file });
  const din = chamfer(data, size, sp, 0);
  const dout = chamfer(data, size, sp, 1);
  const h = 0.5 * Math.min(sp[0], sp[1], sp[2]);
  const sdfMm = new Float32Array(data.length);
  const c: Vec3 = [0, 0, 0];
  let count = 0;
  for (let t = 0; t < data.length; t++) {
    sdfMm[t] = data[t] ? -(din[t] - h) : dout[t] - h;
    if (data[t]) {
      c[0] += t % ni;
      c[1] += Math.floor(t / ni) % nj;
      c[2] += Math.floor(t / (ni * nj));
      count++;
    }
  }
  if (count === 0) throw new Recist3dError('E_MASK_EMPTY', 'lesion shape mask is empty', { file });
  const centroidMm: Vec3 = [(c[0] / count) * sp[0], (c[1] / count) * sp[1], (c[2] / count) * sp[2]];
  const half: Vec3 = [0, 0, 0];
  for (let t = 0; t < data.length; t++) {
    if (!data[t]) continue;
    const p = [(t % ni) * sp[0], (Math.floor(t / ni) % nj) * sp[1], Math.floor(t / (ni * nj)) * sp[2]];
    for (let a = 0; a < 3; a++) half[a] = Math.max(half[a], Math.abs(p[a] - centroidMm[a]) + sp[a] / 2);
  }
  const r = recistFromMask(mask, { context: { file } });
  return {
    file,
    size,
    spacingMm: sp,
    sdfMm,
    centroidMm,
    longMm: r.exactLongMm,
    shortMm: r.exactShortMm,
    halfExtentMm: half,
  };
}

/**
 * The signed distance (world mm) of a library shape placed at `centerMm`, rotated by `angleRad` about z and
 * scaled by `k` (source mm -> world mm): one factor, or one per source axis (x, y, z), which stretches the
 * real shape along its own axes (follow-up growth) and multiplies its volume by k[0] * k[1] * k[2]. Outside
 * the source box the distance to the box is added. With unequal factors the source distance times the
 * smallest factor is returned: the sign is exact and the magnitude a lower bound of the world distance.
 */
export function librarySdf(shape: LibraryShape, centerMm: Vec3, angleRad: number, k: number | Vec3): Sdf {
  const { size, spacingMm: sp, sdfMm, centroidMm } = shape;
  const [ni, nj, nk] = size;
  const [kx, ky, kz] = typeof k === 'number' ? [k, k, k] : k;
  const kMin = Math.min(kx, ky, kz);
  const cs = Math.cos(angleRad);
  const sn = Math.sin(angleRad);
  const at = (i: number, j: number, kk: number) => sdfMm[i + ni * (j + nj * kk)];
  return (x, y, z, _idx, n) => {
    const dx = x - centerMm[0];
    const dy = y - centerMm[1];
    const dz = z - centerMm[2];
    const len = Math.hypot(dx, dy, dz) + 1e-9;
    n[0] = dx / len;
    n[1] = dy / len;
    n[2] = dz / len;
    // world -> source mm -> source voxel (continuous)
    const fi = ((cs * dx + sn * dy) / kx + centroidMm[0]) / sp[0];
    const fj = ((-sn * dx + cs * dy) / ky + centroidMm[1]) / sp[1];
    const fk = (dz / kz + centroidMm[2]) / sp[2];
    const ci = Math.min(ni - 1, Math.max(0, fi));
    const cj = Math.min(nj - 1, Math.max(0, fj));
    const ck = Math.min(nk - 1, Math.max(0, fk));
    const outside = Math.hypot((fi - ci) * sp[0], (fj - cj) * sp[1], (fk - ck) * sp[2]);
    const i0 = Math.min(ni - 2, Math.floor(ci));
    const j0 = Math.min(nj - 2, Math.floor(cj));
    const k0 = Math.min(nk - 2, Math.floor(ck));
    const u = ci - i0;
    const v = cj - j0;
    const w = ck - k0;
    const lerp = (kk: number) =>
      (1 - v) * ((1 - u) * at(i0, j0, kk) + u * at(i0 + 1, j0, kk)) +
      v * ((1 - u) * at(i0, j0 + 1, kk) + u * at(i0 + 1, j0 + 1, kk));
    return ((1 - w) * lerp(k0) + w * lerp(k0 + 1) + outside) * kMin;
  };
}
