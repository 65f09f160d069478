import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { readHeader, NIFTI1 } from 'nifti-reader-js';
import { Recist3dError } from '../errors.js';
import type { Mask, Vec3, Volume, VoxelData } from '../types/volume.js';
import { affineFromGrid, affinesClose, gridFromAffine, type Affine } from '../geometry/affine.js';
import {
  directionToQuatern,
  NIFTI_TYPES,
  qformToAffine,
  readSrow,
  writeNiftiHeader,
  type NiftiHeaderFields,
  type NiftiMeta,
} from './nifti-header.js';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** Bytes per voxel and signedness of the NIfTI datatypes readNifti accepts. */
const READERS: Record<number, { bytes: number; get: (v: DataView, o: number, le: boolean) => number }> = {
  2: { bytes: 1, get: (v, o) => v.getUint8(o) },
  4: { bytes: 2, get: (v, o, le) => v.getInt16(o, le) },
  8: { bytes: 4, get: (v, o, le) => v.getInt32(o, le) },
  16: { bytes: 4, get: (v, o, le) => v.getFloat32(o, le) },
  64: { bytes: 8, get: (v, o, le) => v.getFloat64(o, le) },
  256: { bytes: 1, get: (v, o) => v.getInt8(o) },
  512: { bytes: 2, get: (v, o, le) => v.getUint16(o, le) },
  768: { bytes: 4, get: (v, o, le) => v.getUint32(o, le) },
  1024: { bytes: 8, get: (v, o, le) => Number(v.getBigInt64(o, le)) },
  1280: { bytes: 8, get: (v, o, le) => Number(v.getBigUint64(o, le)) },
};

async function loadBytes(path: string): Promise<Buffer> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Recist3dError('E_FILE_NOT_FOUND', 'NIfTI file not found', { file: path });
    throw e;
  }
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return await gunzipAsync(raw);
    } catch (e) {
      const msg = (e as Error).message;
      const truncated =
        /unexpected end|Z_BUF_ERROR/i.test(msg) || (e as { code?: string }).code === 'Z_BUF_ERROR';
      throw new Recist3dError(
        truncated ? 'E_NIFTI_TRUNCATED' : 'E_NIFTI_CORRUPT',
        `Cannot decompress gzip NIfTI: ${msg}`,
        { file: path },
        { cause: e },
      );
    }
  }
  return raw;
}

/**
 * Reads a NIfTI-1 file (.nii or .nii.gz; gzip is detected from the bytes) into a Volume.
 * uint8 and int16 stay as they are, float32 too; other integer types become Int16Array when every value fits
 * (else Float32Array); float64 becomes Float32Array; scl_slope/scl_inter are applied. Spacing, origin and
 * direction come from the sform when sform_code > 0, else the qform, else pixdim (world = NIfTI RAS+ mm).
 * The source header's spatial fields are kept in `meta.nifti` (see NiftiMeta) so writeNifti can reproduce them.
 */
export async function readNifti(path: string): Promise<Volume> {
  const bytes = await loadBytes(path);
  if (bytes.length < 348)
    throw new Recist3dError(
      'E_NIFTI_TRUNCATED',
      `File has ${bytes.length} bytes, less than a NIfTI-1 header`,
      {
        file: path,
      },
    );
  const le = bytes.readInt32LE(0) === 348;
  if (!le && bytes.readInt32BE(0) !== 348) {
    const two = bytes.readInt32LE(0) === 540 || bytes.readInt32BE(0) === 540;
    throw new Recist3dError(
      two ? 'E_NIFTI_UNSUPPORTED' : 'E_NIFTI_CORRUPT',
      two ? 'NIfTI-2 files are not supported' : 'Not a NIfTI-1 file (sizeof_hdr is not 348)',
      { file: path, field: 'sizeof_hdr' },
    );
  }
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
  const h = readHeader(ab);
  if (!(h instanceof NIFTI1))
    throw new Recist3dError('E_NIFTI_UNSUPPORTED', 'Not a NIfTI-1 file', { file: path });
  const nd = h.dims[0];
  if (nd < 1 || nd > 7)
    throw new Recist3dError('E_NIFTI_CORRUPT', `dim[0] must be 1..7, got ${nd}`, {
      file: path,
      field: 'dim[0]',
    });
  const size: Vec3 = [1, 1, 1];
  for (let k = 1; k <= nd; k++) {
    const d = h.dims[k];
    if (!(Number.isInteger(d) && d >= 1))
      throw new Recist3dError('E_NIFTI_CORRUPT', `dim[${k}] must be >= 1, got ${d}`, {
        file: path,
        field: `dim[${k}]`,
      });
    if (k <= 3) size[k - 1] = d;
    else if (d > 1)
      throw new Recist3dError('E_NIFTI_UNSUPPORTED', `Only 3D volumes are supported, dim[${k}] = ${d}`, {
        file: path,
        field: `dim[${k}]`,
      });
  }
  const pix: Vec3 = [h.pixDims[1], h.pixDims[2], h.pixDims[3]];
  for (let k = 0; k < 3; k++) {
    if (k >= nd && pix[k] === 0) pix[k] = 1; // unused axis of a 2D image
    if (!(Number.isFinite(pix[k]) && pix[k] > 0))
      throw new Recist3dError(
        'E_SPACING_INVALID',
        `Expected a positive finite voxel size in pixdim[${k + 1}] but found ${pix[k]}`,
        { file: path, field: `pixdim[${k + 1}]` },
      );
  }
  const reader = READERS[h.datatypeCode];
  if (!reader)
    throw new Recist3dError('E_NIFTI_UNSUPPORTED', `Unsupported NIfTI datatype ${h.datatypeCode}`, {
      file: path,
      field: 'datatype',
    });
  const n = size[0] * size[1] * size[2];
  const offset = Math.max(Math.floor(h.vox_offset), 348);
  const need = offset + n * reader.bytes;
  if (bytes.length < need)
    throw new Recist3dError(
      'E_NIFTI_TRUNCATED',
      `Expected ${n * reader.bytes} bytes of voxel data from offset ${offset} but the file has ${Math.max(0, bytes.length - offset)}`,
      { file: path },
    );

  const srow = readSrow(bytes, le);
  const qfac = h.pixDims[0] < 0 ? -1 : 1;
  const quatern: Vec3 = [h.quatern_b, h.quatern_c, h.quatern_d];
  const qoffset: Vec3 = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
  let affine: Affine;
  let affineSource: NiftiMeta['affineSource'];
  if (h.sform_code > 0) {
    affine = [...srow, 0, 0, 0, 1];
    affineSource = 'sform';
  } else if (h.qform_code > 0) {
    affine = qformToAffine(quatern, qoffset, pix, qfac);
    affineSource = 'qform';
  } else {
    affine = [pix[0], 0, 0, 0, 0, pix[1], 0, 0, 0, 0, pix[2], 0, 0, 0, 0, 1];
    affineSource = 'pixdim';
  }
  const grid = gridFromAffine(affine);
  if (grid.badAxis !== undefined || affine.some((x) => !Number.isFinite(x)))
    throw new Recist3dError(
      'E_SPACING_INVALID',
      `The ${affineSource} affine has a zero or non-finite column`,
      {
        file: path,
        field: affineSource === 'sform' ? 'srow' : 'quatern',
      },
    );

  const data = decodeVoxels(bytes, offset, n, h.datatypeCode, le, h.scl_slope, h.scl_inter);
  const nifti: NiftiMeta = {
    sourceFile: path,
    datatype: h.datatypeCode,
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    quatern,
    qoffset,
    qfac,
    pixdim: [...h.pixDims],
    srow,
    xyztUnits: h.xyzt_units,
    description: h.description,
    affine,
    affineSource,
  };
  return {
    size,
    spacingMm: grid.spacingMm,
    origin: grid.origin,
    direction: grid.direction,
    data,
    meta: { sourceFile: path, nifti },
  };
}

function decodeVoxels(
  bytes: Buffer,
  offset: number,
  n: number,
  dt: number,
  le: boolean,
  slope: number,
  inter: number,
): VoxelData {
  const scaled =
    Number.isFinite(slope) && slope !== 0 && !(slope === 1 && (inter === 0 || !Number.isFinite(inter)));
  const nativeLE = le && !scaled;
  if (nativeLE && dt === NIFTI_TYPES.uint8) return new Uint8Array(bytes.subarray(offset, offset + n));
  if (nativeLE && dt === NIFTI_TYPES.int16)
    return new Int16Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 2 * n));
  if (nativeLE && dt === NIFTI_TYPES.float32)
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * n));
  const reader = READERS[dt];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f = new Float64Array(n);
  const a = scaled ? slope : 1;
  const b = scaled && Number.isFinite(inter) ? inter : 0;
  let allInt16 = true;
  let allUint8 = dt === NIFTI_TYPES.uint8;
  for (let i = 0; i < n; i++) {
    const x = reader.get(view, offset + i * reader.bytes, le) * a + b;
    f[i] = x;
    if (allInt16 && !(Number.isInteger(x) && x >= -32768 && x <= 32767)) allInt16 = false;
    if (allUint8 && !(Number.isInteger(x) && x >= 0 && x <= 255)) allUint8 = false;
  }
  if (allUint8) return Uint8Array.from(f);
  if (allInt16 && dt !== NIFTI_TYPES.float32 && dt !== NIFTI_TYPES.float64) return Int16Array.from(f);
  return Float32Array.from(f);
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
  const o = { ...WRITE_DEFAULTS, ...options };
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
  const o = { ...MASK_DEFAULTS, ...options };
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
