/**
 * `recist3d import-dicom`: DICOM CT series (+ TID 1500 RECIST SRs, an RTSTRUCT or a manifest) -> NIfTI volumes,
 * their DICOM sidecars and a lesion manifest. Nothing bad in one series stops the others: every problem is
 * listed in `failures` (and import-failures.csv) naming the file.
 */
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isRecist3dError, Recist3dError } from '../errors.js';
import { csvText } from '../io/csv.js';
import { loadManifest, writeManifest } from '../io/manifest.js';
import { writeNifti } from '../io/nifti.js';
import { recistFromMask } from '../recist/from-mask.js';
import { validateRecist } from '../recist/validate.js';
import type { LesionRecord } from '../types/recist.js';
import type { Mask } from '../types/volume.js';
import { categoryFromSite } from './codes.js';
import { readDicomFile, type DicomFile } from './part10.js';
import { readDicomFolders, type DicomFailure, type LoadedSeries } from './read-series.js';
import { rtstructMasks } from './rtstruct.js';
import { sidecarPathFor } from './sidecar.js';
import { readRecistSr } from './sr-read.js';
import { placeRecist } from './sr-to-recist.js';
import { fileSafe, firstText } from './values.js';
import { resolveOptions } from '../util/options.js';

export interface ImportDicomOptions {
  /** Folders holding the CT series (searched recursively; SR and RTSTRUCT files found there are used too). */
  series: string[];
  /** Output folder: images/, masks/, manifest.csv, import-failures.csv. */
  outDir: string;
  /** TID 1500 SR files with the RECIST marks. */
  sr?: string[];
  /** A manifest whose `image` column names a series folder or a SeriesInstanceUID instead of a NIfTI file. */
  manifest?: string;
  /** RTSTRUCT ROI names to turn into lesions (empty: all ROIs of series that have no SR or manifest lesion). */
  roi?: string[];
  /** Called with (done, total, status) while files are read and series written. */
  onProgress?: (done: number, total: number, status: string) => void;
}

const DEFAULTS = {
  series: [],
  outDir: '',
  sr: [],
  manifest: '',
  roi: [],
  onProgress: () => {},
} satisfies Required<ImportDicomOptions>;

export interface ImportedSeries {
  name: string;
  imagePath: string;
  sidecarPath: string;
  seriesInstanceUid: string;
  slices: number;
  lesions: number;
}

export interface ImportDicomResult {
  manifestPath?: string | undefined;
  failuresPath?: string | undefined;
  series: ImportedSeries[];
  records: LesionRecord[];
  failures: DicomFailure[];
  ignored: string[];
}

function seriesName(s: LoadedSeries, taken: Set<string>): string {
  const id = s.identity;
  const number = firstText(id.series.SeriesNumber);
  const parts = [
    fileSafe(firstText(id.patient.PatientID)) || 'patient',
    fileSafe(firstText(id.study.StudyDate)) || 'nodate',
    number ? `s${fileSafe(number)}` : fileSafe(id.seriesInstanceUid.split('.').pop() ?? '') || 'series',
  ];
  let name = parts.join('_');
  for (let n = 2; taken.has(name); n++) name = `${parts.join('_')}_${n}`;
  taken.add(name);
  return name;
}

function failure(e: unknown, file: string): DicomFailure {
  if (!isRecist3dError(e)) throw e;
  return { file: e.context.file ?? file, code: e.code, message: e.message };
}

/** Imports the series and their RECIST; see ImportDicomOptions. Throws only for unusable options. */
export async function importDicom(options: ImportDicomOptions): Promise<ImportDicomResult> {
  const o = resolveOptions(DEFAULTS, options);
  if (o.series.length === 0) throw new Recist3dError('E_USAGE', 'No series folder given (--series DIR...)');
  const outDir = resolve(o.outDir);
  const read = await readDicomFolders(o.series, { onProgress: o.onProgress });
  const failures = [...read.failures];
  const taken = new Set<string>();
  const imported: ImportedSeries[] = [];
  for (const s of read.series) {
    const name = seriesName(s, taken);
    const imagePath = join(outDir, 'images', `${name}.nii.gz`);
    await writeNifti(imagePath, s.volume, { description: `DICOM ${s.identity.modality} series ${name}` });
    const sidecarPath = sidecarPathFor(imagePath);
    await writeFile(sidecarPath, JSON.stringify(s.identity, null, 1) + '\n');
    imported.push({
      name,
      imagePath,
      sidecarPath,
      seriesInstanceUid: s.identity.seriesInstanceUid,
      slices: s.volume.size[2],
      lesions: 0,
    });
  }
  const identities = read.series.map((s) => s.identity);
  const records: LesionRecord[] = [];
  const push = (si: number, rec: Omit<LesionRecord, 'row' | 'imagePath' | 'patientId' | 'studyDate'>) => {
    const id = identities[si];
    records.push({
      ...rec,
      imagePath: imported[si].imagePath,
      patientId: firstText(id.patient.PatientID) || undefined,
      studyDate: firstText(id.study.StudyDate) || undefined,
      row: records.length + 2,
    });
    imported[si].lesions++;
  };

  // 1. RECIST from TID 1500 SRs (given, and found among the series files)
  const srFiles: DicomFile[] = [...read.structuredReports];
  for (const p of o.sr) {
    try {
      srFiles.push(await readDicomFile(resolve(p)));
    } catch (e) {
      failures.push(failure(e, resolve(p)));
    }
  }
  const seenSr = new Set<string>();
  for (const f of srFiles) {
    const uid = String(f.dataset.SOPInstanceUID ?? '');
    if (uid && seenSr.has(uid)) continue; // the same SR given with --sr and found in a series folder
    seenSr.add(uid);
    try {
      const { measurements, failures: bad } = readRecistSr(f);
      failures.push(...bad.map((e) => failure(e, f.file)));
      if (measurements.length === 0 && bad.length === 0)
        failures.push({
          file: f.file,
          code: 'E_DICOM_SR',
          message: 'The SR holds no Long Axis / Short Axis measurement group',
        });
      for (const m of measurements) {
        try {
          const placed = placeRecist(m, identities);
          const vol = read.series[placed.series].volume;
          const lesionId = `${imported[placed.series].name}_L${imported[placed.series].lesions + 1}`;
          validateRecist(placed.recist, vol.size, vol.spacingMm, { file: m.file, lesionId });
          push(placed.series, {
            lesionId,
            keySlice: placed.keySlice,
            recist: placed.recist,
            category: categoryFromSite(m.findingSite) ?? 'unknown',
            ...(m.trackingUid ? { trackId: m.trackingUid } : {}),
          });
        } catch (e) {
          failures.push(failure(e, m.file));
        }
      }
    } catch (e) {
      failures.push(failure(e, f.file));
    }
  }

  // 2. A manifest whose image column names a series folder or a SeriesInstanceUID
  if (o.manifest) {
    const rows = await loadManifest(resolve(o.manifest), { checkFiles: false });
    for (const r of rows) {
      const si = read.series.findIndex(
        (s) => s.folders.includes(r.imagePath) || s.identity.seriesInstanceUid === basename(r.imagePath),
      );
      if (si < 0) {
        failures.push({
          file: resolve(o.manifest),
          code: 'E_DICOM_REFERENCE',
          message: `row ${r.row}: image ${r.imagePath} is neither an imported series folder nor a SeriesInstanceUID`,
        });
        continue;
      }
      try {
        const vol = read.series[si].volume;
        if (r.keySlice >= vol.size[2])
          throw new Recist3dError(
            'E_RECIST_OUTSIDE',
            `key_slice ${r.keySlice} is beyond the ${vol.size[2]} slices`,
            {
              row: r.row,
              file: resolve(o.manifest),
            },
          );
        validateRecist(r.recist, vol.size, vol.spacingMm, {
          row: r.row,
          lesionId: r.lesionId,
          file: resolve(o.manifest),
        });
        const { row: _row, imagePath: _img, ...rest } = r;
        push(si, rest);
      } catch (e) {
        failures.push(failure(e, resolve(o.manifest)));
      }
    }
  }

  // 3. RTSTRUCT ROIs -> ground-truth masks and RECIST measured on them, for series without other lesions
  for (const f of read.rtStructs) {
    let rois;
    try {
      rois = rtstructMasks(f, identities);
    } catch (e) {
      failures.push(failure(e, f.file));
      continue;
    }
    for (const roi of rois) {
      if (o.roi.length && !o.roi.includes(roi.roiName)) continue;
      if (imported[roi.series].lesions > 0 && !o.roi.length) continue;
      const vol = read.series[roi.series].volume;
      const mask: Mask = { ...vol, data: roi.mask.data, meta: {} };
      const lesionId = `${imported[roi.series].name}_${fileSafe(roi.roiName)}`;
      try {
        const rec = recistFromMask(mask, { context: { file: f.file, lesionId } });
        const maskPath = join(outDir, 'masks', `${lesionId}.nii.gz`);
        await writeNifti(maskPath, mask, { description: `RTSTRUCT ROI ${roi.roiName}`.slice(0, 79) });
        push(roi.series, {
          lesionId,
          keySlice: rec.keySlice,
          recist: rec.recist,
          category: 'unknown',
          maskPath,
        });
      } catch (e) {
        failures.push(failure(e, f.file));
      }
    }
  }

  let manifestPath: string | undefined;
  if (records.length) {
    manifestPath = join(outDir, 'manifest.csv');
    await writeManifest(manifestPath, records);
  }
  let failuresPath: string | undefined;
  if (failures.length) {
    failuresPath = join(outDir, 'import-failures.csv');
    const rows = failures.map((f) => [f.file, f.code, f.message.replace(/\s*\n\s*/g, ' ')]);
    await writeFile(failuresPath, csvText(['file', 'code', 'message'], rows));
  }
  return { manifestPath, failuresPath, series: imported, records, failures, ignored: read.ignored };
}
