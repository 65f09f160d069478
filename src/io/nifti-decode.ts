import { readHeader, NIFTI1 } from 'nifti-reader-js';
import { Recist3dError } from '../errors.js';
import type { Vec3, VoxelData } from '../types/volume.js';
import { det3, gridFromAffine, type Affine } from '../geometry/affine.js';
import { NIFTI_TYPES, qformToAffine, readSrow, type NiftiMeta } from './nifti-header.js';

/** Bytes per voxel and signedness of the NIfTI datatypes readNifti accepts. */
export const READERS: Record<
  number,
  { bytes: number; get: (v: DataView, o: number, le: boolean) => number }
> = {
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

/** The parsed, validated header: grid, source header fields, and where/how the voxels are stored. */
export interface ParsedNifti {
  size: Vec3;
  grid: ReturnType<typeof gridFromAffine>;
  nifti: NiftiMeta;
  le: boolean;
  offset: number;
  sclSlope: number;
  sclInter: number;
}

/** Parses and validates a NIfTI-1 header (errors name the file and the field). */
export function parseNiftiHeader(bytes: Buffer, path: string): ParsedNifti {
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
  const magic = bytes.toString('latin1', 344, 347);
  if (magic === 'ni1')
    throw new Recist3dError('E_NIFTI_UNSUPPORTED', 'Separate .hdr/.img pairs are not supported', {
      file: path,
      field: 'magic',
    });
  if (magic !== 'n+1')
    throw new Recist3dError('E_NIFTI_CORRUPT', `No NIfTI-1 magic "n+1" (found "${magic}")`, {
      file: path,
      field: 'magic',
    });
  // Hand the header parser the 348-byte header with an empty extension flag: extensions are not used, and
  // neither a copy of the whole image nor (for header-only reads) bytes past the header are needed.
  const head = new Uint8Array(352);
  head.set(bytes.subarray(0, 348));
  const ab = head.buffer;
  let h;
  try {
    h = readHeader(ab);
  } catch (e) {
    throw new Recist3dError(
      'E_NIFTI_CORRUPT',
      `Unreadable NIfTI header: ${(e as Error).message}`,
      { file: path },
      { cause: e },
    );
  }
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
  const affineField = affineSource === 'sform' ? 'srow' : affineSource === 'qform' ? 'quatern' : 'pixdim';
  if (grid.badAxis !== undefined || affine.some((x) => !Number.isFinite(x)))
    throw new Recist3dError(
      'E_SPACING_INVALID',
      `The ${affineSource} affine has a zero or non-finite column`,
      {
        file: path,
        field: affineField,
      },
    );
  // unit columns: |det| is 1 for a proper grid and 0 when two voxel axes point the same way
  const volumeRatio = Math.abs(det3(grid.direction));
  if (!(volumeRatio > 1e-6))
    throw new Recist3dError(
      'E_SPACING_INVALID',
      `The ${affineSource} affine is singular (its voxel axes do not span 3D space; |det| of the unit columns ${volumeRatio.toExponential(1)})`,
      { file: path, field: affineField },
    );
  const offset = h.vox_offset;
  if (!(Number.isInteger(offset) && offset >= 352))
    throw new Recist3dError(
      'E_NIFTI_CORRUPT',
      `vox_offset must be a whole number >= 352 (the voxels of a .nii file start after its 348-byte header and 4-byte extension flag), found ${offset}`,
      { file: path, field: 'vox_offset' },
    );

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
    grid,
    nifti,
    le,
    offset,
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
  };
}

export function decodeVoxels(
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
