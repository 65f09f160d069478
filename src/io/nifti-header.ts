import type { Mat3, Vec3 } from '../types/volume.js';
import type { Affine } from '../geometry/affine.js';

/**
 * The spatial part of a NIfTI-1 header, kept in `Volume.meta.nifti` by readNifti so that writeNifti can
 * reproduce the source file's qform and sform exactly (same float32 bits) when the grid is unchanged.
 */
export interface NiftiMeta {
  /** File the header was read from. */
  sourceFile?: string;
  /** NIfTI datatype code of the source data (2 uint8, 4 int16, 16 float32, ...). */
  datatype: number;
  qformCode: number;
  sformCode: number;
  /** quatern_b, quatern_c, quatern_d. */
  quatern: Vec3;
  /** qoffset_x, qoffset_y, qoffset_z. */
  qoffset: Vec3;
  /** pixdim[0]: -1 or 1. */
  qfac: number;
  /** pixdim[0..7] as stored. */
  pixdim: number[];
  /** srow_x, srow_y, srow_z (12 numbers). */
  srow: number[];
  xyztUnits: number;
  description: string;
  /** The voxel-to-world affine that was used for spacing/origin/direction (row-major 4x4). */
  affine: Affine;
  /** Which header part `affine` came from. */
  affineSource: 'sform' | 'qform' | 'pixdim';
}

export const NIFTI_TYPES = { uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512 };

/** Row-major 4x4 affine from the qform fields (nifti1_io.c nifti_quatern_to_mat44). */
export function qformToAffine(q: Vec3, offset: Vec3, pixdim: Vec3, qfac: number): Affine {
  let [b, c, d] = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    const s = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= s;
    c *= s;
    d *= s;
    a = 0;
  } else a = Math.sqrt(a);
  const xd = pixdim[0] > 0 ? pixdim[0] : 1;
  const yd = pixdim[1] > 0 ? pixdim[1] : 1;
  const zd = (pixdim[2] > 0 ? pixdim[2] : 1) * (qfac < 0 ? -1 : 1);
  return [
    (a * a + b * b - c * c - d * d) * xd,
    2 * (b * c - a * d) * yd,
    2 * (b * d + a * c) * zd,
    offset[0],
    2 * (b * c + a * d) * xd,
    (a * a + c * c - b * b - d * d) * yd,
    2 * (c * d - a * b) * zd,
    offset[1],
    2 * (b * d - a * c) * xd,
    2 * (c * d + a * b) * yd,
    (a * a + d * d - c * c - b * b) * zd,
    offset[2],
    0,
    0,
    0,
    1,
  ];
}

/**
 * Quaternion (b, c, d) and qfac for an orthonormal direction matrix (nifti1_io.c nifti_mat44_to_quatern).
 * Returns undefined when the matrix is not a (possibly improper) rotation, i.e. no qform can represent it.
 */
export function directionToQuatern(dir: Mat3): { quatern: Vec3; qfac: number } | undefined {
  const r = [...dir];
  // Orthonormality check: R^T R = I.
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      const dot = r[i] * r[j] + r[3 + i] * r[3 + j] + r[6 + i] * r[6 + j];
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-4) return undefined;
    }
  const det =
    r[0] * (r[4] * r[8] - r[5] * r[7]) -
    r[1] * (r[3] * r[8] - r[5] * r[6]) +
    r[2] * (r[3] * r[7] - r[4] * r[6]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    r[2] = -r[2];
    r[5] = -r[5];
    r[8] = -r[8];
  }
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = r;
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { quatern: [b, c, d], qfac };
}

/** Everything writeNiftiHeader needs. */
export interface NiftiHeaderFields {
  size: Vec3;
  datatype: number;
  bitpix: number;
  pixdim: Vec3;
  qfac: number;
  qformCode: number;
  sformCode: number;
  quatern: Vec3;
  qoffset: Vec3;
  srow: number[];
  xyztUnits: number;
  description: string;
}

/** A 352-byte little-endian NIfTI-1 single-file header (348 bytes + empty extension flag). */
export function writeNiftiHeader(f: NiftiHeaderFields): Buffer {
  const buf = Buffer.alloc(352);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  v.setInt32(0, 348, true);
  buf.write('r', 38, 'latin1'); // regular
  const dims = [3, f.size[0], f.size[1], f.size[2], 1, 1, 1, 1];
  dims.forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, f.datatype, true);
  v.setInt16(72, f.bitpix, true);
  const pix = [f.qfac, f.pixdim[0], f.pixdim[1], f.pixdim[2], 1, 1, 1, 1];
  pix.forEach((p, i) => v.setFloat32(76 + 4 * i, p, true));
  v.setFloat32(108, 352, true); // vox_offset
  v.setFloat32(112, 1, true); // scl_slope
  v.setFloat32(116, 0, true); // scl_inter
  v.setUint8(123, f.xyztUnits);
  buf.write(f.description.slice(0, 79), 148, 'latin1');
  v.setInt16(252, f.qformCode, true);
  v.setInt16(254, f.sformCode, true);
  f.quatern.forEach((q, i) => v.setFloat32(256 + 4 * i, q, true));
  f.qoffset.forEach((q, i) => v.setFloat32(268 + 4 * i, q, true));
  f.srow.forEach((s, i) => v.setFloat32(280 + 4 * i, s, true));
  buf.write('n+1\0', 344, 'latin1');
  return buf;
}

/** Reads srow_x/y/z raw from the header bytes (nifti-reader-js overwrites its affine with the qform). */
export function readSrow(header: Buffer, littleEndian: boolean): number[] {
  const v = new DataView(header.buffer, header.byteOffset, header.byteLength);
  return Array.from({ length: 12 }, (_, i) => v.getFloat32(280 + 4 * i, littleEndian));
}
