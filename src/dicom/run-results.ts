/**
 * What export-dicom needs from a finished run folder (`recist3d run --out DIR`): the manifest it ran on
 * (metrics.json's `manifest`) and, per lesion, lesions.csv's status, mask file, volume and RECIST lengths.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Recist3dError } from '../errors.js';
import { parseCsvRows, readCsvFile } from '../io/csv.js';

/** One row of lesions.csv. */
export interface RunLesion {
  lesionId: string;
  status: string;
  /** Absolute path of the 3D mask, when the lesion has one. */
  maskPath?: string | undefined;
  volumeMm3: number;
  recistLongMm: number;
  recistShortMm: number;
  /** CSV row (header = 1). */
  row: number;
}

const num = (s: string | undefined) => (s === undefined || s.trim() === '' ? Number.NaN : Number(s));

/** The manifest path a run recorded in metrics.json (absolute). Throws E_DICOM_EXPORT when it did not. */
export async function runManifestPath(runDir: string): Promise<string> {
  const metrics = join(runDir, 'metrics.json');
  if (!existsSync(metrics))
    throw new Recist3dError(
      'E_FILE_NOT_FOUND',
      'No metrics.json: is this a finished `recist3d run` folder?',
      {
        file: metrics,
      },
    );
  const json = JSON.parse(await readFile(metrics, 'utf8')) as { manifest?: unknown };
  if (typeof json.manifest !== 'string' || !json.manifest)
    throw new Recist3dError(
      'E_DICOM_EXPORT',
      'metrics.json does not record the manifest the run used (runs before this field existed): pass --manifest',
      { file: metrics },
    );
  return resolve(runDir, json.manifest);
}

/** Reads lesions.csv of a run folder. */
export async function readRunLesions(runDir: string): Promise<RunLesion[]> {
  const path = join(runDir, 'lesions.csv');
  const text = await readCsvFile(path, 'No lesions.csv: is this a finished `recist3d run` folder?');
  const { header, rows } = parseCsvRows(text, path, 'lesions');
  for (const c of ['lesion_id', 'status', 'mask'])
    if (!header.includes(c))
      throw new Recist3dError('E_CSV_ROW', `lesions.csv has no column "${c}"`, {
        file: path,
        field: c,
        row: 1,
      });
  return rows.map(({ record: r, info }) => ({
    lesionId: r.lesion_id,
    status: r.status,
    maskPath: r.mask ? resolve(runDir, r.mask) : undefined,
    volumeMm3: num(r.volume_mm3),
    recistLongMm: num(r.recist_long_mm),
    recistShortMm: num(r.recist_short_mm),
    row: info.lines,
  }));
}
