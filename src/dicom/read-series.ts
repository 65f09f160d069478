/**
 * Reading DICOM folders: every file is parsed once, images are grouped into series by SeriesInstanceUID (so a
 * folder holding several series yields several volumes), and each series becomes a Volume in the NIfTI world
 * (RAS) plus the sidecar identity that export-dicom needs. A file or series that cannot be read is reported in
 * `failures` naming the file; the other series still load.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isRecist3dError, Recist3dError } from '../errors.js';
import type { Vec3, Volume } from '../types/volume.js';
import { readDicomFile, type DicomFile } from './part10.js';
import { decodeSlice, pixelModule } from './pixel-data.js';
import { lpsToRas, seriesGeometry, type SeriesGeometryOptions, type SlicePlane } from './series-geometry.js';
import { SIDECAR_FORMAT, type DicomSeriesSidecar } from './sidecar.js';
import { resolveOptions } from '../util/options.js';

/** A file or series that could not be imported. */
export interface DicomFailure {
  /** The file the problem was found in. */
  file: string;
  /** SeriesInstanceUID when the problem belongs to a series. */
  seriesInstanceUid?: string | undefined;
  code: string;
  message: string;
}

export interface LoadedSeries {
  /** CT in the NIfTI world (RAS); Int16Array when every rescaled value is an integer in int16 range. */
  volume: Volume<Int16Array | Float32Array>;
  identity: DicomSeriesSidecar;
  /** The folder(s) its files came from. */
  folders: string[];
}

export interface ReadDicomFoldersResult {
  series: LoadedSeries[];
  /** Structured reports found (SOP classes 1.2.840.10008.5.1.4.1.1.88.*). */
  structuredReports: DicomFile[];
  /** RT Structure Sets found. */
  rtStructs: DicomFile[];
  failures: DicomFailure[];
  /** Files skipped as neither images, SR nor RTSTRUCT (e.g. DICOMDIR, SEG, presentation states). */
  ignored: string[];
}

export interface ReadDicomFoldersOptions {
  /** Geometry tolerances (see SeriesGeometryOptions). */
  geometry?: SeriesGeometryOptions;
  /** Called with (done, total, status): each file counts twice, once read and once decoded into its series. */
  onProgress?: (done: number, total: number, status: string) => void;
}

const DEFAULTS = {
  geometry: {},
  onProgress: () => {},
} satisfies Required<ReadDicomFoldersOptions>;

const SR_PREFIX = '1.2.840.10008.5.1.4.1.1.88.';
const RTSTRUCT = '1.2.840.10008.5.1.4.1.1.481.3';
const NON_IMAGE_MODALITIES = new Set([
  'SR',
  'RTSTRUCT',
  'SEG',
  'PR',
  'KO',
  'REG',
  'RTPLAN',
  'RTRECORD',
  'DOC',
]);

export const PATIENT_KEYS = ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex', 'PatientAge'];
export const STUDY_KEYS = [
  'StudyDate',
  'StudyTime',
  'StudyID',
  'AccessionNumber',
  'ReferringPhysicianName',
  'StudyDescription',
];
const SERIES_KEYS = ['SeriesNumber', 'SeriesDescription', 'SeriesDate', 'SeriesTime', 'BodyPartExamined'];

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/** The value of a string attribute ('' when absent). */
export function str(f: DicomFile, key: string): string {
  const v = f.dataset[key];
  return v === undefined || v === null ? '' : String(Array.isArray(v) ? v.join('\\') : v).trim();
}

function numbers(f: DicomFile, key: string, count: number): number[] {
  const raw = f.dataset[key];
  const arr = (Array.isArray(raw) ? raw : [raw]).map(Number);
  if (arr.length !== count || !arr.every(Number.isFinite))
    throw new Recist3dError(
      'E_DICOM_ATTRIBUTE',
      `Missing or invalid ${key} (${raw === undefined ? 'absent' : JSON.stringify(raw)}; ${count} numbers ` +
        'expected): the image plane module is incomplete',
      { file: f.file, field: key },
    );
  return arr;
}

function plane(f: DicomFile): SlicePlane {
  const pm = pixelModule(f);
  return {
    file: f.file,
    orientation: numbers(f, 'ImageOrientationPatient', 6) as SlicePlane['orientation'],
    position: numbers(f, 'ImagePositionPatient', 3) as Vec3,
    pixelSpacing: numbers(f, 'PixelSpacing', 2) as [number, number],
    rows: pm.rows,
    columns: pm.columns,
  };
}

function pick(f: DicomFile, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (f.dataset[k] !== undefined) out[k] = f.dataset[k];
  return out;
}

/** The SOP Instance UID of a file (from the data set, else the file meta information). */
export function sopInstanceUid(f: DicomFile): string {
  return str(f, 'SOPInstanceUID') || String(f.meta.MediaStorageSOPInstanceUID ?? '').trim();
}

function sopClassUid(f: DicomFile): string {
  return str(f, 'SOPClassUID') || String(f.meta.MediaStorageSOPClassUID ?? '').trim();
}

/** Builds one series' volume and identity; throws a Recist3dError naming the offending file. */
export async function buildSeries(
  files: DicomFile[],
  options: SeriesGeometryOptions = {},
  onSlice: (k: number) => void = () => {},
): Promise<Omit<LoadedSeries, 'folders'>> {
  const planes = files.map(plane);
  const { order, grid } = seriesGeometry(planes, options);
  const [ni, nj, nk] = grid.size;
  const n = ni * nj;
  const values = new Float32Array(n * nk);
  let integral = true;
  for (const [k, idx] of order.entries()) {
    const slice = await decodeSlice(files[idx]);
    values.set(slice, k * n);
    for (let x = 0; integral && x < slice.length; x++) {
      const v = slice[x];
      integral = Number.isInteger(v) && v >= -32768 && v <= 32767;
    }
    onSlice(k);
  }
  const data = integral ? Int16Array.from(values) : values;
  const first = files[order[0]];
  const ras = lpsToRas(grid);
  const identity: DicomSeriesSidecar = {
    format: SIDECAR_FORMAT,
    version: 1,
    studyInstanceUid: str(first, 'StudyInstanceUID'),
    seriesInstanceUid: str(first, 'SeriesInstanceUID'),
    frameOfReferenceUid: str(first, 'FrameOfReferenceUID'),
    modality: str(first, 'Modality'),
    patient: pick(first, PATIENT_KEYS),
    study: pick(first, STUDY_KEYS),
    series: pick(first, SERIES_KEYS),
    imageOrientationPatient: planes[0].orientation,
    pixelSpacing: planes[0].pixelSpacing,
    rows: nj,
    columns: ni,
    slices: order.map((idx) => ({
      sopClassUid: sopClassUid(files[idx]),
      sopInstanceUid: sopInstanceUid(files[idx]),
      imagePositionPatient: planes[idx].position,
      file: files[idx].file,
    })),
    transferSyntaxUids: [...new Set(files.map((f) => f.transferSyntaxUid))],
  };
  return {
    volume: {
      size: grid.size,
      spacingMm: grid.spacingMm,
      origin: ras.origin,
      direction: ras.direction,
      data,
      meta: { world: 'RAS', dicomSeriesInstanceUid: identity.seriesInstanceUid },
    },
    identity,
  };
}

function failureOf(e: unknown, file: string, seriesInstanceUid?: string): DicomFailure {
  if (!isRecist3dError(e)) throw e;
  return { file: e.context.file ?? file, seriesInstanceUid, code: e.code, message: e.message };
}

/**
 * Reads every file under `folders` (recursively; hidden files skipped). Images are grouped by
 * SeriesInstanceUID (files without one form one group per folder) and built into volumes; SR and RTSTRUCT
 * files are returned for the caller. Problems go to `failures`; nothing is thrown for bad input.
 */
export async function readDicomFolders(
  folders: readonly string[],
  options: ReadDicomFoldersOptions = {},
): Promise<ReadDicomFoldersResult> {
  const o = resolveOptions(DEFAULTS, options);
  const result: ReadDicomFoldersResult = {
    series: [],
    structuredReports: [],
    rtStructs: [],
    failures: [],
    ignored: [],
  };
  const groups = new Map<string, { files: DicomFile[]; folders: Set<string> }>();
  const lists: [string, string[]][] = [];
  for (const folder of folders) {
    const abs = resolve(folder);
    const st = await stat(abs).catch(() => undefined);
    if (!st) {
      result.failures.push({ file: abs, code: 'E_FILE_NOT_FOUND', message: `Folder not found (${abs})` });
      continue;
    }
    lists.push([abs, st.isDirectory() ? await listFiles(abs) : [abs]]);
  }
  const total = 2 * lists.reduce((s, [, l]) => s + l.length, 0);
  let done = 0;
  for (const [folder, files] of lists) {
    for (const file of files) {
      o.onProgress(++done, total, 'reading');
      let f: DicomFile;
      try {
        f = await readDicomFile(file);
      } catch (e) {
        result.failures.push(failureOf(e, file));
        continue;
      }
      const cls = sopClassUid(f);
      const modality = str(f, 'Modality');
      if (cls.startsWith(SR_PREFIX) || modality === 'SR') result.structuredReports.push(f);
      else if (cls === RTSTRUCT || modality === 'RTSTRUCT') result.rtStructs.push(f);
      else if (NON_IMAGE_MODALITIES.has(modality) || cls === '1.2.840.10008.1.3.10')
        result.ignored.push(file);
      else {
        const key = str(f, 'SeriesInstanceUID') || `(no SeriesInstanceUID in ${folder})`;
        const g = groups.get(key) ?? { files: [], folders: new Set<string>() };
        g.files.push(f);
        g.folders.add(folder);
        groups.set(key, g);
      }
    }
  }
  // files that are not images (or could not be read) have nothing to decode
  done = total - [...groups.values()].reduce((n, g) => n + g.files.length, 0);
  let seriesNo = 0;
  for (const [key, g] of groups) {
    const before = done;
    const status = `series ${++seriesNo}/${groups.size}`;
    try {
      const s = await buildSeries(g.files, o.geometry, () => o.onProgress(++done, total, status));
      result.series.push({ ...s, folders: [...g.folders] });
    } catch (e) {
      result.failures.push(failureOf(e, g.files[0].file, key));
    }
    done = before + g.files.length;
    o.onProgress(done, total, status);
  }
  return result;
}
