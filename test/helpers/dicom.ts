/**
 * Test helpers for DICOM: a writer of synthetic single-frame CT series built straight from dcmjs data sets
 * (independent of src/dicom/ct-write.ts), and the independent validators, dciodvfy (Debian dicom3tools) and
 * pydicom (Debian python3-pydicom), which scripts/test.sh installs when missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NaturalDataset } from 'dcmjs';
import { encodeDicom } from '../../src/dicom/part10.js';
import { newUid } from '../../src/dicom/uids.js';
import type { Vec3 } from '../../src/types/volume.js';

export const PYTHON = '/usr/bin/python3';

export interface TestSeriesOptions {
  /** Columns (i), rows (j), slices (k). */
  size: Vec3;
  /** PixelSpacing [row spacing (j), column spacing (i)] and the step between slices. */
  pixelSpacing?: [number, number];
  sliceStep?: number;
  /** ImageOrientationPatient. */
  orientation?: number[];
  /** ImagePositionPatient of slice 0 (LPS). */
  origin?: Vec3;
  /** HU value of voxel (i, j, k). */
  hu?: (i: number, j: number, k: number) => number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** Store unsigned values (PixelRepresentation 0). */
  unsigned?: boolean;
  transferSyntaxUid?: string;
  /** Written SliceThickness (deliberately not the step by default, which the reader must ignore). */
  sliceThickness?: number;
  /** Override the position / orientation of slice k. */
  positionOf?: (k: number, p: Vec3) => Vec3;
  orientationOf?: (k: number, o: number[]) => number[];
  /** Slices not written at all. */
  skip?: number[];
  studyUid?: string;
  seriesUid?: string;
  frameOfReferenceUid?: string;
  patientId?: string;
  studyDate?: string;
  seriesNumber?: number;
  /** File name of slice k (default: reversed order, so file order is not slice order). */
  fileName?: (k: number) => string;
  /** Edit the data set of slice k before it is written. */
  edit?: (k: number, ds: NaturalDataset) => void;
}

export interface TestSeries {
  dir: string;
  files: string[];
  /** SOP Instance UIDs in slice order k. */
  sopUids: string[];
  positions: Vec3[];
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
}

const cross = (a: number[], b: number[]): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

export async function writeTestSeries(dir: string, o: TestSeriesOptions): Promise<TestSeries> {
  await mkdir(dir, { recursive: true });
  const [ni, nj, nk] = o.size;
  const ps = o.pixelSpacing ?? [0.8, 0.7];
  const step = o.sliceStep ?? 2.5;
  const iop = o.orientation ?? [1, 0, 0, 0, 1, 0];
  const origin = o.origin ?? [-100, -120, -300];
  const n = cross(iop.slice(0, 3), iop.slice(3, 6));
  const slope = o.rescaleSlope ?? 1;
  const intercept = o.rescaleIntercept ?? -1024;
  const hu = o.hu ?? ((i, j, k) => ((i * 7 + j * 13 + k * 101) % 2000) - 1000);
  const out: TestSeries = {
    dir,
    files: [],
    sopUids: [],
    positions: [],
    studyUid: o.studyUid ?? newUid(),
    seriesUid: o.seriesUid ?? newUid(),
    frameOfReferenceUid: o.frameOfReferenceUid ?? newUid(),
  };
  for (let k = 0; k < nk; k++) {
    let pos = origin.map((v, a) => v + k * step * n[a]) as Vec3;
    if (o.positionOf) pos = o.positionOf(k, pos);
    const orient = o.orientationOf ? o.orientationOf(k, iop) : iop;
    const sop = newUid();
    out.sopUids.push(sop);
    out.positions.push(pos);
    if (o.skip?.includes(k)) continue;
    const stored = o.unsigned ? new Uint16Array(ni * nj) : new Int16Array(ni * nj);
    for (let j = 0; j < nj; j++)
      for (let i = 0; i < ni; i++) stored[i + ni * j] = Math.round((hu(i, j, k) - intercept) / slope);
    const ds: NaturalDataset = {
      _vrMap: { PixelData: 'OW' },
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      SOPInstanceUID: sop,
      StudyInstanceUID: out.studyUid,
      SeriesInstanceUID: out.seriesUid,
      FrameOfReferenceUID: out.frameOfReferenceUid,
      Modality: 'CT',
      PatientName: [{ Alphabetic: o.patientId ?? 'TEST^PATIENT' }],
      PatientID: o.patientId ?? 'P001',
      StudyDate: o.studyDate ?? '20240131',
      StudyTime: '120000',
      SeriesNumber: o.seriesNumber ?? 3,
      InstanceNumber: nk - k,
      ImagePositionPatient: pos,
      ImageOrientationPatient: orient,
      PixelSpacing: ps,
      SliceThickness: o.sliceThickness ?? step * 2,
      Rows: nj,
      Columns: ni,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: o.unsigned ? 0 : 1,
      RescaleSlope: slope,
      RescaleIntercept: intercept,
      PixelData: [stored.buffer],
    };
    o.edit?.(k, ds);
    const file = join(dir, o.fileName ? o.fileName(k) : `IM${String(nk - k).padStart(4, '0')}`);
    await writeFile(
      file,
      encodeDicom(ds, { transferSyntaxUid: o.transferSyntaxUid ?? '1.2.840.10008.1.2.1' }),
    );
    out.files.push(file);
  }
  return out;
}

/** Fails with a clear message when dciodvfy, dcmtk or pydicom is missing (scripts/test.sh installs them). */
export function requireValidators(): void {
  const missing: string[] = [];
  if (spawnSync('dciodvfy', [], { stdio: 'ignore' }).error) missing.push('dicom3tools (dciodvfy)');
  if (spawnSync('dcmcjpls', ['--version'], { stdio: 'ignore' }).error)
    missing.push('dcmtk (dcmcjpeg, dcmcjpls, dcmcrle)');
  if (
    !existsSync(PYTHON) ||
    spawnSync(PYTHON, ['-c', 'import pydicom, numpy'], { stdio: 'ignore' }).status !== 0
  )
    missing.push('python3-pydicom, python3-numpy');
  if (missing.length)
    throw new Error(
      `Missing validators: ${missing.join(', ')}. scripts/test.sh installs them; or run ` +
        'apt-get install -y dicom3tools dcmtk python3-pydicom python3-numpy python3-pil',
    );
}

/** dciodvfy's "Error" lines for one file (empty = valid). */
export function dciodvfyErrors(file: string): string[] {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^\s*Error/.test(l));
}

/** Runs a Python snippet with pydicom; `args` are JSON-encoded into sys.argv[1]; the snippet prints JSON. */
export function pydicom<T>(script: string, args: unknown): T {
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pydicom script failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
