/**
 * A finished run folder as the viewer sees it: lesions.csv joined with the run's manifest (images, RECIST, truth
 * masks) by lesion id. Files are known only through these entries; nothing the browser sends becomes a path.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Recist3dError } from '../errors.js';
import { parseCsvRows, readCsvFile } from '../io/csv.js';
import { loadManifest } from '../io/manifest.js';
import type { LesionRecord } from '../types/recist.js';
import type { LesionInfo, RunInfo } from './api-types.js';

/** A lesion and the files behind it (server side only). */
export interface LesionEntry {
  info: LesionInfo;
  /** Absolute paths; undefined when the file is not known or does not exist. */
  files: { image?: string | undefined; prediction?: string | undefined; truth?: string | undefined };
}

export interface RunIndex {
  runDir: string;
  manifestPath?: string | undefined;
  info: RunInfo;
  /** In lesions.csv order. */
  lesions: LesionEntry[];
  byId: Map<string, LesionEntry>;
}

/**
 * Reads `runDir`'s lesions.csv and metrics.json, and the manifest (`manifestPath`, else the one metrics.json
 * records). Without a manifest the list still works but no image can be shown.
 */
export async function loadRunIndex(runDir: string, manifestPath?: string): Promise<RunIndex> {
  const dir = resolve(runDir);
  const csvPath = resolve(dir, 'lesions.csv');
  const text = await readCsvFile(csvPath, 'Not a finished run folder: lesions.csv not found');
  const { header, rows } = parseCsvRows(text, csvPath, 'lesions');
  if (!header.includes('lesion_id'))
    throw new Recist3dError('E_CSV_ROW', 'lesions.csv has no lesion_id column', { file: csvPath });
  const manifest = manifestPath ? resolve(manifestPath) : await recordedManifest(dir);
  const records = new Map<string, LesionRecord>();
  if (manifest) {
    for (const r of await loadManifest(manifest, { checkFiles: false })) records.set(r.lesionId, r);
  }
  const qcFlags = header.filter((h) => h.startsWith('qc_')).map((h) => h.slice(3));
  const lesions: LesionEntry[] = [];
  const byId = new Map<string, LesionEntry>();
  for (const { record: c } of rows) {
    const id = c.lesion_id;
    if (!id || byId.has(id)) continue;
    const rec = records.get(id);
    const image = rec && existsSync(rec.imagePath) ? rec.imagePath : undefined;
    const truth = rec?.maskPath && existsSync(rec.maskPath) ? rec.maskPath : undefined;
    const predPath = c.mask ? resolve(dir, c.mask) : undefined;
    // the mask column is written by the run; still never follow it out of the run folder
    const prediction =
      predPath && predPath.startsWith(dir + '/') && existsSync(predPath) ? predPath : undefined;
    const num = (k: string): number | null => {
      const v = c[k];
      if (v === undefined || v === '') return null;
      const x = Number(v);
      return Number.isFinite(x) ? x : null;
    };
    const qc: Record<string, number> = {};
    for (const f of qcFlags) qc[f] = num(`qc_${f}`) ?? 0;
    const info: LesionInfo = {
      lesionId: id,
      patientId: c.patient_id ?? rec?.patientId ?? '',
      studyDate: c.study_date ?? rec?.studyDate ?? '',
      category: c.category || rec?.category || 'unknown',
      split: c.split ?? '',
      status: c.status || 'ok',
      error: c.error ?? '',
      volumeMm3: num('volume_mm3'),
      ellipsoidMm3: num('recist_ellipsoid_mm3'),
      recistLongMm: num('recist_long_mm'),
      recistShortMm: num('recist_short_mm'),
      autoLongMm: num('auto_long_mm'),
      autoShortMm: num('auto_short_mm'),
      sliceFirst: num('slice_first'),
      sliceLast: num('slice_last'),
      qc,
      dice3d: num('dice_3d'),
      diceKey: num('dice_key'),
      keySlice: rec?.keySlice ?? null,
      recist: rec?.recist ?? null,
      window: rec?.window ?? null,
      hasImage: image !== undefined,
      hasPrediction: prediction !== undefined,
      hasTruth: truth !== undefined,
    };
    const entry = { info, files: { image, prediction, truth } };
    lesions.push(entry);
    byId.set(id, entry);
  }
  return {
    runDir: dir,
    manifestPath: manifest,
    info: {
      runName: basename(dir),
      lesions: lesions.length,
      failed: lesions.filter((l) => l.info.status !== 'ok').length,
      qcFlags,
      hasTruth: lesions.some((l) => l.info.hasTruth),
      hasManifest: manifest !== undefined,
    },
    lesions,
    byId,
  };
}

/** The manifest path recorded in metrics.json (`manifest`), when it is there and still exists. */
async function recordedManifest(dir: string): Promise<string | undefined> {
  let metrics: { manifest?: unknown };
  try {
    metrics = JSON.parse(await readFile(resolve(dir, 'metrics.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const m = metrics.manifest;
  return typeof m === 'string' && existsSync(m) ? m : undefined;
}
