/**
 * Writing a volume as a classic single-frame CT series with new UIDs, for runs whose images came from NIfTI:
 * the SEG and SR then reference this series, so every export opens in a viewer. The grid goes from the NIfTI
 * world (RAS) to DICOM patient coordinates (LPS); slice k is the file with InstanceNumber k + 1.
 */
import { join } from 'node:path';
import type { NaturalDataset } from 'dcmjs';
import { Recist3dError } from '../errors.js';
import type { Vec3, Volume } from '../types/volume.js';
import { equipment, dicomDateTime, patientStudy } from './common-modules.js';
import { writeDicomFile } from './part10.js';
import { lpsToRas } from './series-geometry.js';
import { SIDECAR_FORMAT, type DicomSeriesSidecar } from './sidecar.js';
import { newUid } from './uids.js';
import { resolveOptions } from '../util/options.js';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export interface NewCtSeriesOptions {
  /** PatientID (and PatientName) to write. */
  patientId?: string;
  /** StudyDate (YYYYMMDD) to write; other text is dropped. */
  studyDate?: string;
  /** Study Instance UID, shared by the series of one study (default: a new one). */
  studyInstanceUid?: string | undefined;
  seriesNumber?: number;
  seriesDescription?: string;
  /** Where the volume came from (recorded as the slices' `file`). */
  sourceFile?: string;
}

const DEFAULTS = {
  patientId: '',
  studyDate: '',
  studyInstanceUid: '',
  seriesNumber: 1,
  seriesDescription: 'recist3d CT (from NIfTI)',
  sourceFile: '',
} satisfies Required<NewCtSeriesOptions>;

const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

/** Splits a RAS volume grid into DICOM's orientation, positions and spacing; refuses sheared grids. */
export function dicomPlanes(vol: Pick<Volume, 'size' | 'spacingMm' | 'origin' | 'direction'>, file = '') {
  const lps = lpsToRas(vol);
  const col = (c: number): Vec3 => [lps.direction[c], lps.direction[3 + c], lps.direction[6 + c]];
  const [di, dj, dk] = [col(0), col(1), col(2)];
  const normal: Vec3 = [
    di[1] * dj[2] - di[2] * dj[1],
    di[2] * dj[0] - di[0] * dj[2],
    di[0] * dj[1] - di[1] * dj[0],
  ];
  if (Math.abs(dot(di, dj)) > 1e-4 || Math.abs(Math.abs(dot(dk, normal)) - 1) > 1e-4)
    throw new Recist3dError(
      'E_DICOM_EXPORT',
      'The image grid is sheared (its axes are not orthogonal), which a CT series cannot represent',
      { file },
    );
  const positions: Vec3[] = [];
  for (let k = 0; k < vol.size[2]; k++)
    positions.push([0, 1, 2].map((a) => lps.origin[a] + k * vol.spacingMm[2] * dk[a]) as Vec3);
  return {
    imageOrientationPatient: [...di, ...dj] as DicomSeriesSidecar['imageOrientationPatient'],
    pixelSpacing: [vol.spacingMm[1], vol.spacingMm[0]] as [number, number],
    positions,
  };
}

/** A new series identity (new Series, Frame of Reference and SOP Instance UIDs) for a volume. */
export function newCtIdentity(
  vol: Pick<Volume, 'size' | 'spacingMm' | 'origin' | 'direction'>,
  options: NewCtSeriesOptions = {},
): DicomSeriesSidecar {
  const o = resolveOptions(DEFAULTS, options);
  const planes = dicomPlanes(vol, o.sourceFile);
  const { date, time } = dicomDateTime();
  const studyDate = /^\d{8}$/.test(o.studyDate) ? o.studyDate : '';
  return {
    format: SIDECAR_FORMAT,
    version: 1,
    studyInstanceUid: o.studyInstanceUid || newUid(),
    seriesInstanceUid: newUid(),
    frameOfReferenceUid: newUid(),
    modality: 'CT',
    patient: { PatientName: o.patientId ? [{ Alphabetic: o.patientId }] : '', PatientID: o.patientId },
    study: {
      StudyDate: studyDate || date,
      StudyTime: studyDate ? '' : time,
      StudyID: '',
      AccessionNumber: '',
    },
    series: { SeriesNumber: o.seriesNumber, SeriesDescription: o.seriesDescription },
    imageOrientationPatient: planes.imageOrientationPatient,
    pixelSpacing: planes.pixelSpacing,
    rows: vol.size[1],
    columns: vol.size[0],
    slices: planes.positions.map((p) => ({
      sopClassUid: CT_IMAGE_STORAGE,
      sopInstanceUid: newUid(),
      imagePositionPatient: p,
      file: o.sourceFile,
    })),
    transferSyntaxUids: [],
  };
}

/**
 * Writes `vol` (HU) as CT slices `<dir>/CT000001.dcm`... (explicit VR little endian, signed 16-bit; float values
 * are rounded and clamped to int16). Returns the written paths in k order.
 */
export async function writeCtSeries(
  dir: string,
  vol: Volume,
  identity: DicomSeriesSidecar,
  version: string,
): Promise<string[]> {
  const [ni, nj, nk] = vol.size;
  const plane = ni * nj;
  const { date, time } = dicomDateTime();
  const paths: string[] = [];
  let lo = 32767;
  let hi = -32768;
  for (const v of vol.data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const center = Math.round((Math.max(lo, -1024) + Math.min(hi, 3071)) / 2);
  const width = Math.max(1, Math.min(hi, 3071) - Math.max(lo, -1024));
  for (let k = 0; k < nk; k++) {
    const pixels = new Int16Array(plane);
    for (let x = 0; x < plane; x++)
      pixels[x] = Math.max(-32768, Math.min(32767, Math.round(vol.data[k * plane + x])));
    const s = identity.slices[k];
    const ds: NaturalDataset = {
      _vrMap: { PixelData: 'OW' },
      SpecificCharacterSet: 'ISO_IR 192',
      SOPClassUID: CT_IMAGE_STORAGE,
      SOPInstanceUID: s.sopInstanceUid,
      ...patientStudy(identity),
      Modality: 'CT',
      SeriesInstanceUID: identity.seriesInstanceUid,
      SeriesNumber: identity.series.SeriesNumber ?? 1,
      SeriesDescription: identity.series.SeriesDescription ?? '',
      SeriesDate: date,
      SeriesTime: time,
      PatientPosition: '',
      Laterality: '',
      FrameOfReferenceUID: identity.frameOfReferenceUid,
      PositionReferenceIndicator: '',
      ...equipment(version),
      InstanceNumber: k + 1,
      PatientOrientation: '',
      ContentDate: date,
      ContentTime: time,
      ImageType: ['DERIVED', 'SECONDARY', 'AXIAL'],
      DerivationDescription: `Converted from NIfTI by recist3d ${version}`,
      AcquisitionNumber: 1,
      PixelSpacing: identity.pixelSpacing,
      ImageOrientationPatient: identity.imageOrientationPatient,
      ImagePositionPatient: s.imagePositionPatient,
      SliceThickness: vol.spacingMm[2],
      SpacingBetweenSlices: vol.spacingMm[2],
      KVP: '',
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      Rows: nj,
      Columns: ni,
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 1,
      RescaleIntercept: 0,
      RescaleSlope: 1,
      RescaleType: 'HU',
      WindowCenter: center,
      WindowWidth: width,
      PixelData: [pixels.buffer],
    };
    const path = join(dir, `CT${String(k + 1).padStart(6, '0')}.dcm`);
    await writeDicomFile(path, ds);
    paths.push(path);
  }
  return paths;
}
