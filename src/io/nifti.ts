import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Recist3dError } from '../errors.js';
import type { Mask, Vec3, Volume, VoxelData } from '../types/volume.js';
import { affineFromGrid, affinesClose } from '../geometry/affine.js';
import {
  directionToQuatern,
  NIFTI_TYPES,
  writeNiftiHeader,
  type NiftiHeaderFields,
  type NiftiMeta,
} from './nifti-header.js';
import { decodeVoxels, type ParsedNifti } from './nifti-decode.js';
import { loadNifti } from './nifti-load.js';
import { resolveOptions } from '../util/options.js';

const gzipAsync = promisify(gzip);

/**
 * Reads a NIfTI-1 file (.nii or .nii.gz; gzip is detected from the bytes) into a Volume.
 * uint8 and int16 stay as they are, float32 too; other integer types become Int16Array when every value fits
 * (else Float32Array); float64 becomes Float32Array; scl_slope/scl_inter are applied. Spacing, origin and
 * direction come from the sform when sform_code > 0, else the qform, else pixdim (world = NIfTI RAS+ mm).
 * The source header's spatial fields are kept in `meta.nifti` (see NiftiMeta) so writeNifti can reproduce them.
 *
 * Only regular files are read, and only the bytes the header declares (nifti-load.ts). The header is checked
 * (nifti-decode.ts: vox_offset, dims, datatype, a non-singular affine); a voxel that is NaN or infinite after
 * scaling is E_NIFTI_VALUES. Every error is a Recist3dError naming the file.
 */
export async function readNifti(path: string): Promise<Volume> {
  const { bytes, parsed: p } = await loadNifti(path);
  return niftiVolume(bytes, p, path);
}

/** The Volume of header + voxel bytes already loaded (readNifti without the file access; used by the fuzz tests). */
export function niftiVolume(bytes: Buffer, p: ParsedNifti, path: string): Volume {
  const n = p.size[0] * p.size[1] * p.size[2];
  const data = decodeVoxels(bytes, p.offset, n, p.nifti.datatype, p.le, p.sclSlope, p.sclInter);
  checkFinite(data, p.size, path);
  const { spacingMm, origin, direction } = p.grid;
  return { size: p.size, spacingMm, origin, direction, data, meta: { sourceFile: path, nifti: p.nifti } };
}

/** Throws E_NIFTI_VALUES when a voxel is NaN or infinite, naming how many and where the first one is. */
function checkFinite(data: VoxelData, size: Vec3, path: string): void {
  if (!(data instanceof Float32Array)) return;
  let bad = 0;
  let first = -1;
  for (let x = 0; x < data.length; x++) {
    if (!Number.isFinite(data[x])) {
      bad++;
      if (first < 0) first = x;
    }
  }
  if (bad === 0) return;
  const plane = size[0] * size[1];
  const ijk = [first % size[0], Math.floor(first / size[0]) % size[1], Math.floor(first / plane)];
  throw new Recist3dError(
    'E_NIFTI_VALUES',
    `${bad} of ${data.length} voxels are NaN or infinite (the first at voxel i,j,k = ${ijk.join(',')}, value ${data[first]})`,
    { file: path },
  );
}

/** The grid and header of a NIfTI file without its voxels (reads and decompresses only the header). */
export async function readNiftiHeader(path: string): Promise<Omit<Volume, 'data'>> {
  const { parsed: p } = await loadNifti(path, true);
  const { spacingMm, origin, direction } = p.grid;
  return { size: p.size, spacingMm, origin, direction, meta: { sourceFile: path, nifti: p.nifti } };
}

export interface WriteNiftiOptions {
  /** gzip level 1..9 for .nii.gz (higher = smaller, slower). */
  compressionLevel?: number;
  /** Header description (max 79 characters); default: the source header's, else "recist3d". */
  description?: string;
}

const WRITE_DEFAULTS = { compressionLevel: 4, description: '' } satisfies Required<WriteNiftiOptions>;

/** Builds the header for `vol`, reusing the source header's qform/sform verbatim when the grid is unchanged. */
export function niftiHeaderFor(vol: Volume, description = ''): NiftiHeaderFields {
  const dt =
    vol.data instanceof Uint8Array
      ? NIFTI_TYPES.uint8
      : vol.data instanceof Int16Array
        ? NIFTI_TYPES.int16
        : NIFTI_TYPES.float32;
  const bitpix = dt === NIFTI_TYPES.uint8 ? 8 : dt === NIFTI_TYPES.int16 ? 16 : 32;
  const src = vol.meta?.nifti as NiftiMeta | undefined;
  const affine = affineFromGrid(vol);
  const base = {
    size: vol.size,
    datatype: dt,
    bitpix,
    description: description || src?.description || 'recist3d',
  };
  if (src && Array.isArray(src.affine) && affinesClose(src.affine, affine, 1e-4)) {
    return {
      ...base,
      pixdim: [src.pixdim[1], src.pixdim[2], src.pixdim[3]],
      qfac: src.pixdim[0] === 0 ? 0 : src.qfac,
      qformCode: src.qformCode,
      sformCode: src.sformCode,
      quatern: src.quatern,
      qoffset: src.qoffset,
      srow: src.srow,
      xyztUnits: src.xyztUnits || 2,
    };
  }
  const q = directionToQuatern(vol.direction);
  const code = src && src.sformCode > 0 ? src.sformCode : src && src.qformCode > 0 ? src.qformCode : 1;
  return {
    ...base,
    pixdim: [...vol.spacingMm] as Vec3,
    qfac: q?.qfac ?? 1,
    qformCode: q ? code : 0,
    sformCode: code,
    quatern: q?.quatern ?? [0, 0, 0],
    qoffset: [...vol.origin] as Vec3,
    srow: affine.slice(0, 12),
    xyztUnits: 2,
  };
}

/**
 * Writes a Volume as NIfTI-1 (.nii, or gzip-compressed when the path ends in .gz). Uint8Array -> uint8,
 * Int16Array -> int16, Float32Array -> float32, little-endian. When `vol.meta.nifti` holds the header the
 * volume was read from and the grid still matches it, qform and sform are written bit-identical, so a mask
 * written for an input volume lands on the same grid in any viewer.
 */
export async function writeNifti(path: string, vol: Volume, options: WriteNiftiOptions = {}): Promise<void> {
  const o = resolveOptions(WRITE_DEFAULTS, options);
  const n = vol.size[0] * vol.size[1] * vol.size[2];
  if (vol.data.length !== n)
    throw new Recist3dError('E_GRID_MISMATCH', `Volume data has ${vol.data.length} voxels, size says ${n}`, {
      file: path,
    });
  const header = writeNiftiHeader(niftiHeaderFor(vol, o.description));
  const body = Buffer.from(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  let out = Buffer.concat([header, body]);
  if (path.endsWith('.gz')) out = await gzipAsync(out, { level: o.compressionLevel });
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, out);
}

export interface ReadMaskOptions {
  /** Map every non-zero voxel to 1 (false: keep labels 0..255 as they are). */
  binarize?: boolean;
}

const MASK_DEFAULTS = { binarize: true } satisfies Required<ReadMaskOptions>;

/**
 * Reads a NIfTI label image as a Mask (Uint8Array), whatever type it was stored in (LIDC masks are int16).
 * Throws E_NIFTI_UNSUPPORTED when a value is not an integer 0..255 and `binarize` is false.
 */
export async function readMask(path: string, options: ReadMaskOptions = {}): Promise<Mask> {
  const o = resolveOptions(MASK_DEFAULTS, options);
  const vol = await readNifti(path);
  if (vol.data instanceof Uint8Array && !o.binarize) return vol as Mask;
  const data = new Uint8Array(vol.data.length);
  for (let x = 0; x < data.length; x++) {
    const v = vol.data[x];
    if (o.binarize) data[x] = v !== 0 && !Number.isNaN(v) ? 1 : 0;
    else if (Number.isInteger(v) && v >= 0 && v <= 255) data[x] = v;
    else
      throw new Recist3dError('E_NIFTI_UNSUPPORTED', `Mask value ${v} at voxel ${x} is not a label 0..255`, {
        file: path,
      });
  }
  return { ...vol, data };
}
