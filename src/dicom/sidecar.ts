/**
 * The DICOM identity of a series that import-dicom wrote as NIfTI, kept beside the NIfTI as
 * `<name>.dicom.json` (docs/formats.md), so that export-dicom can reference the original study, series and SOP
 * instances instead of inventing new ones.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Recist3dError } from '../errors.js';
import type { Vec3 } from '../types/volume.js';

export const SIDECAR_FORMAT = 'recist3d-dicom-series';

/** One source slice, in the order of the NIfTI's k axis. */
export interface SidecarSlice {
  sopClassUid: string;
  sopInstanceUid: string;
  /** ImagePositionPatient as read (LPS, mm). */
  imagePositionPatient: Vec3;
  /** The file it was read from. */
  file: string;
}

export interface DicomSeriesSidecar {
  format: typeof SIDECAR_FORMAT;
  version: 1;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  modality: string;
  /** Patient module attributes as read, DICOM keywords in dcmjs's JSON form (PatientName, PatientID, ...). */
  patient: Record<string, unknown>;
  /** General Study attributes (StudyDate, StudyTime, StudyID, AccessionNumber, ReferringPhysicianName, ...). */
  study: Record<string, unknown>;
  /** General Series attributes (SeriesNumber, SeriesDescription, ...). */
  series: Record<string, unknown>;
  imageOrientationPatient: [number, number, number, number, number, number];
  /** PixelSpacing as DICOM orders it: [between rows, between columns] (mm). */
  pixelSpacing: [number, number];
  rows: number;
  columns: number;
  /** One entry per slice, slice k of the NIfTI = slices[k]. */
  slices: SidecarSlice[];
  /** Transfer syntaxes the slices were stored in. */
  transferSyntaxUids: string[];
}

/** `images/a.nii.gz` -> `images/a.dicom.json` (also for .nii). */
export function sidecarPathFor(imagePath: string): string {
  return imagePath.replace(/\.nii(\.gz)?$/i, '') + '.dicom.json';
}

/** Reads the sidecar of a NIfTI image, or undefined when the image did not come from DICOM. */
export async function readSidecar(imagePath: string): Promise<DicomSeriesSidecar | undefined> {
  const path = sidecarPathFor(imagePath);
  if (!existsSync(path)) return undefined;
  let json: DicomSeriesSidecar;
  try {
    json = JSON.parse(await readFile(path, 'utf8')) as DicomSeriesSidecar;
  } catch (e) {
    throw new Recist3dError('E_DICOM_EXPORT', `Cannot read the DICOM sidecar: ${(e as Error).message}`, {
      file: path,
    });
  }
  if (json.format !== SIDECAR_FORMAT || json.version !== 1 || !Array.isArray(json.slices))
    throw new Recist3dError(
      'E_DICOM_EXPORT',
      `Not a ${SIDECAR_FORMAT} version 1 sidecar (format ${JSON.stringify(json.format)})`,
      { file: path },
    );
  return json;
}

/**
 * Fractional voxel coordinates [i, j, k] of a patient point (LPS, mm) on the sidecar's series: i along the row
 * direction, j along the column direction, k along the slices (pixel centres at integers).
 */
export function lpsToVoxel(s: DicomSeriesSidecar, p: readonly number[]): Vec3 {
  const r = s.imageOrientationPatient.slice(0, 3);
  const c = s.imageOrientationPatient.slice(3, 6);
  const o = s.slices[0].imagePositionPatient;
  const d = [p[0] - o[0], p[1] - o[1], p[2] - o[2]];
  const n = s.slices.length;
  const last = s.slices[n - 1].imagePositionPatient;
  const kAxis = [last[0] - o[0], last[1] - o[1], last[2] - o[2]];
  const kLen2 = kAxis[0] ** 2 + kAxis[1] ** 2 + kAxis[2] ** 2;
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  return [
    dot(d, r) / s.pixelSpacing[1],
    dot(d, c) / s.pixelSpacing[0],
    n > 1 && kLen2 > 0 ? (dot(d, kAxis) / kLen2) * (n - 1) : 0,
  ];
}
