import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecist3dError } from '../errors.js';
import type { LesionRecord } from '../types/recist.js';
import type { Volume } from '../types/volume.js';
import { validateRecist } from '../recist/validate.js';
import { parseDlInfo } from './deeplesion.js';
import { loadDeepLesionVolume, type DeepLesionMeta } from './deeplesion-volume.js';
import { writeManifest } from './manifest.js';
import { writeNifti } from './nifti.js';
import { resolveOptions } from '../util/options.js';

/** A lesion that could not be imported (the import goes on without it). */
export interface ImportFailure {
  lesionId: string;
  /** CSV row in DL_info (header = 1). */
  row: number;
  code: string;
  message: string;
}

export interface ImportDeepLesionOptions {
  /** DL_info.csv (or a file with its columns). */
  dlInfo: string;
  /** The Images_png folder (sub-folders PPPPPP_SS_RR with KKK.png). */
  imagesDir: string;
  /** Output folder: images/*.nii.gz and manifest.csv are written there. */
  outDir: string;
  /** At most this many slices on each side of the key slice. */
  maxSlicesEachSide?: number;
  /** Called after each lesion with (done, total, lesionId). */
  onProgress?: (done: number, total: number, lesionId: string) => void;
}

const DEFAULTS = {
  dlInfo: '',
  imagesDir: '',
  outDir: '',
  maxSlicesEachSide: 1000,
  onProgress: () => {},
} satisfies Required<ImportDeepLesionOptions>;

/** A row that was imported but changed (see ParseDlInfoOptions.onWarning). */
export interface ImportWarning {
  /** CSV row in DL_info (header = 1). */
  row: number;
  field: string;
  message: string;
}

export interface ImportDeepLesionResult {
  manifestPath: string;
  /** Rows imported with a change, e.g. RECIST axes swapped so the long one comes first. */
  warnings: ImportWarning[];
  /** import-failures.csv (lesion_id,row,code,message), written when any lesion failed. */
  failuresPath?: string | undefined;
  records: LesionRecord[];
  failures: ImportFailure[];
  /** NIfTI volumes written (several lesions may share one). */
  volumesWritten: number;
}

/**
 * Converts DeepLesion (DL_info.csv + Images_png) into NIfTI volumes and a lesion manifest. Each lesion whose
 * slices are missing or unreadable, or whose RECIST is invalid, is recorded in `failures`, not thrown.
 * Volumes are named like DeepLesion's own NIfTI release: PPPPPP_SS_RR_FFF-LLL.nii.gz (first-last slice).
 */
export async function importDeepLesion(options: ImportDeepLesionOptions): Promise<ImportDeepLesionResult> {
  const o = resolveOptions(DEFAULTS, options);
  const failures: ImportFailure[] = [];
  const warnings: ImportWarning[] = [];
  const rows = await parseDlInfo(o.dlInfo, {
    skipInvalid: true,
    onIssue: (i) =>
      failures.push({
        lesionId: `row ${i.row}`,
        row: i.row,
        code: 'E_DEEPLESION_ROW',
        message: `${i.field}: ${i.reason}`,
      }),
    onWarning: (i) => warnings.push({ row: i.row, field: i.field, message: i.reason }),
  });
  const records: LesionRecord[] = [];
  const written = new Map<string, string>();
  let last: { key: string; vol: Volume<Int16Array> } | undefined;
  for (const [n, row] of rows.entries()) {
    try {
      const cacheKey = `${row.seriesDir}/${row.keySliceIndex}/${row.sliceRange.join('-')}`;
      const vol =
        last?.key === cacheKey
          ? last.vol
          : await loadDeepLesionVolume(row, o.imagesDir, { maxSlicesEachSide: o.maxSlicesEachSide });
      last = { key: cacheKey, vol };
      const meta = vol.meta.deepLesion as DeepLesionMeta;
      validateRecist(row.recist, vol.size, vol.spacingMm, {
        row: row.row,
        lesionId: row.lesionId,
        file: o.dlInfo,
      });
      const s = meta.sliceNumbers;
      const name = `${row.seriesDir}_${pad3(s[0])}-${pad3(s[s.length - 1])}.nii.gz`;
      const imagePath = join(o.outDir, 'images', name);
      if (!written.has(name)) {
        await writeNifti(imagePath, vol, { description: `DeepLesion ${row.seriesDir}` });
        written.set(name, imagePath);
      }
      records.push({
        lesionId: row.lesionId,
        imagePath,
        keySlice: meta.keySlice,
        recist: row.recist,
        category: row.category,
        split: row.split,
        patientId: String(row.patientIndex).padStart(6, '0'),
        window: row.dicomWindow,
        row: records.length + 2,
      });
    } catch (e) {
      if (!isRecist3dError(e)) throw e;
      failures.push({ lesionId: row.lesionId, row: row.row, code: e.code, message: e.message });
    }
    o.onProgress(n + 1, rows.length, row.lesionId);
  }
  const manifestPath = join(o.outDir, 'manifest.csv');
  await writeManifest(manifestPath, records);
  let failuresPath: string | undefined;
  if (failures.length) {
    failuresPath = join(o.outDir, 'import-failures.csv');
    const q = (v: string) => `"${v.replace(/"/g, '""').replace(/\s*\n\s*/g, ' ')}"`;
    const lines = failures.map((f) => [q(f.lesionId), f.row, f.code, q(f.message)].join(','));
    await writeFile(failuresPath, ['lesion_id,row,code,message', ...lines].join('\n') + '\n');
  }
  return { manifestPath, failuresPath, records, failures, warnings, volumesWritten: written.size };
}

function pad3(n: number): string {
  return String(n).padStart(3, '0');
}
