/**
 * `recist3d export-dicom`: a finished run folder -> per study a DICOM SEG (one segment per lesion) per series,
 * a TID 1500 SR with each lesion's RECIST, auto-RECIST and volume, and, where the run's image came from NIfTI
 * (or its sidecar's UIDs cannot be referenced), the CT as a new DICOM series that the SEG and SR reference.
 */
import { writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isRecist3dError, Recist3dError } from '../errors.js';
import { affineFromGrid, affinesClose } from '../geometry/affine.js';
import { loadManifest } from '../io/manifest.js';
import { readMask, readNifti, readNiftiHeader } from '../io/nifti.js';
import { recistFromMask } from '../recist/from-mask.js';
import { segmentLengthMm } from '../recist/parse.js';
import type { LesionRecord } from '../types/recist.js';
import type { Mask, Volume } from '../types/volume.js';
import { packageVersion } from '../util/provenance.js';
import { dicomPlanes, newCtIdentity, writeCtSeries } from './ct-write.js';
import { writeDicomFile } from './part10.js';
import { readRunLesions, runManifestPath, type RunLesion } from './run-results.js';
import { buildSeg, type SegSegment } from './seg-write.js';
import { readSidecar, type DicomSeriesSidecar } from './sidecar.js';
import { buildSr, type SrLesion, type SrRecist } from './sr-write.js';
import { isValidUid, newUid } from './uids.js';
import { fileSafe, firstText } from './values.js';
import { resolveOptions } from '../util/options.js';

export interface ExportDicomOptions {
  /** The run folder (lesions.csv, metrics.json, masks/). */
  runDir: string;
  /** Output folder: one sub-folder per study. */
  outDir: string;
  /** Export only these lesion ids (default: every lesion with a mask). */
  lesions?: string[];
  /** The manifest the run used, when metrics.json does not record it. */
  manifest?: string;
  /** Called after each lesion's mask is read and each object written. */
  onProgress?: (done: number, total: number, status: string) => void;
}

const DEFAULTS = {
  runDir: '',
  outDir: '',
  lesions: [],
  manifest: '',
  onProgress: () => {},
} satisfies Required<ExportDicomOptions>;

export interface ExportedStudy {
  folder: string;
  studyInstanceUid: string;
  /** 'original' when the SEG/SR reference the imported DICOM series, 'new' when the CT was written here. */
  reference: 'original' | 'new';
  ctSeries: string[];
  seg: string[];
  sr: string;
  lesions: string[];
}

export interface ExportDicomResult {
  studies: ExportedStudy[];
  skipped: { lesionId: string; reason: string }[];
  /** Notes such as "sidecar UIDs missing: wrote the CT anew". */
  notes: string[];
  summaryPath: string;
}

/** Why a sidecar cannot be referenced for this image grid, or undefined when it can. */
function sidecarProblem(s: DicomSeriesSidecar, grid: Omit<Volume, 'data'>): string | undefined {
  const uids = [s.studyInstanceUid, s.seriesInstanceUid, s.frameOfReferenceUid];
  if (
    !uids.every(isValidUid) ||
    !s.slices.every((x) => isValidUid(x.sopInstanceUid) && isValidUid(x.sopClassUid))
  )
    return 'its Study, Series, Frame of Reference or SOP Instance UIDs are missing or invalid (anonymised export?)';
  if (s.slices.length !== grid.size[2] || s.columns !== grid.size[0] || s.rows !== grid.size[1])
    return `it describes ${s.columns}x${s.rows}x${s.slices.length} voxels, the image has ${grid.size.join('x')}`;
  const planes = dicomPlanes(grid);
  const off = Math.max(
    ...planes.positions.map((p, k) =>
      Math.hypot(...p.map((v, a) => v - s.slices[k].imagePositionPatient[a])),
    ),
  );
  if (off > 0.05) return `its slice positions are up to ${off.toFixed(3)} mm from the image grid's`;
  return undefined;
}

/** Exports a run; see ExportDicomOptions. Throws for an unusable run folder or unknown --lesion ids. */
export async function exportDicom(options: ExportDicomOptions): Promise<ExportDicomResult> {
  const o = resolveOptions(DEFAULTS, options);
  const runDir = resolve(o.runDir);
  const outDir = resolve(o.outDir);
  const version = packageVersion();
  const manifestPath = o.manifest ? resolve(o.manifest) : await runManifestPath(runDir);
  const records = new Map((await loadManifest(manifestPath)).map((r) => [r.lesionId, r]));
  const runLesions = await readRunLesions(runDir);
  const byId = new Map(runLesions.map((l) => [l.lesionId, l]));
  const unknown = o.lesions.filter((id) => !byId.has(id));
  if (unknown.length)
    throw new Recist3dError('E_USAGE', `Unknown lesion id(s) for --lesion: ${unknown.join(', ')}`, {
      file: join(runDir, 'lesions.csv'),
    });
  const skipped: ExportDicomResult['skipped'] = [];
  const notes: string[] = [];
  const chosen: { run: RunLesion; rec: LesionRecord }[] = [];
  for (const l of o.lesions.length ? o.lesions.map((id) => byId.get(id)!) : runLesions) {
    const rec = records.get(l.lesionId);
    if (!rec) skipped.push({ lesionId: l.lesionId, reason: `not in the manifest ${manifestPath}` });
    else if (l.status !== 'ok' || !l.maskPath)
      skipped.push({ lesionId: l.lesionId, reason: `status ${l.status}, no mask` });
    else chosen.push({ run: l, rec });
  }
  if (chosen.length === 0)
    throw new Recist3dError('E_DICOM_EXPORT', 'No lesion with a mask to export', {
      file: join(runDir, 'lesions.csv'),
    });

  // 1. The series each image is (or becomes)
  const seriesOf = new Map<
    string,
    { identity: DicomSeriesSidecar; reference: 'original' | 'new'; volume?: Volume }
  >();
  const newStudyUid = new Map<string, string>();
  for (const { rec } of chosen) {
    if (seriesOf.has(rec.imagePath)) continue;
    const header = await readNiftiHeader(rec.imagePath);
    const sidecar = await readSidecar(rec.imagePath);
    const problem = sidecar ? sidecarProblem(sidecar, header) : 'it has none';
    if (sidecar && !problem) {
      seriesOf.set(rec.imagePath, { identity: sidecar, reference: 'original' });
      continue;
    }
    if (sidecar)
      notes.push(
        `${basename(rec.imagePath)}: DICOM sidecar not referenced (${problem}); the CT is written anew`,
      );
    const key = `${rec.patientId ?? ''}|${rec.studyDate ?? ''}`;
    if (!newStudyUid.has(key)) newStudyUid.set(key, newUid());
    const volume = await readNifti(rec.imagePath);
    const identity = newCtIdentity(volume, {
      patientId: rec.patientId ?? '',
      studyDate: rec.studyDate ?? '',
      studyInstanceUid: newStudyUid.get(key),
      seriesNumber: seriesOf.size + 1,
      seriesDescription: `recist3d CT ${basename(rec.imagePath).replace(/\.nii(\.gz)?$/, '')}`.slice(0, 64),
      sourceFile: rec.imagePath,
    });
    if (sidecar) {
      identity.patient = { ...sidecar.patient };
      identity.study = { ...sidecar.study };
    }
    seriesOf.set(rec.imagePath, { identity, reference: 'new', volume });
  }

  // 2. Group lesions by study, then series
  const studies = new Map<string, Map<string, { image: string; lesions: typeof chosen }>>();
  for (const c of chosen) {
    const s = seriesOf.get(c.rec.imagePath)!.identity;
    const st = studies.get(s.studyInstanceUid) ?? new Map();
    const se = st.get(s.seriesInstanceUid) ?? { image: c.rec.imagePath, lesions: [] };
    se.lesions.push(c);
    st.set(s.seriesInstanceUid, se);
    studies.set(s.studyInstanceUid, st);
  }

  const exported: ExportedStudy[] = [];
  const folders = new Set<string>();
  let done = 0;
  for (const [studyUid, seriesMap] of studies) {
    const first = seriesOf.get([...seriesMap.values()][0].image)!.identity;
    const base =
      [fileSafe(firstText(first.patient.PatientID)), fileSafe(firstText(first.study.StudyDate))]
        .filter(Boolean)
        .join('_') || `study_${studyUid.slice(-8)}`;
    let folderName = base;
    for (let n = 2; folders.has(folderName); n++) folderName = `${base}_${n}`;
    folders.add(folderName);
    const folder = join(outDir, folderName);
    const study: ExportedStudy = {
      folder,
      studyInstanceUid: studyUid,
      reference: 'original',
      ctSeries: [],
      seg: [],
      sr: '',
      lesions: [],
    };
    const srLesions: SrLesion[] = [];
    for (const [, { image, lesions }] of seriesMap) {
      const entry = seriesOf.get(image)!;
      const name = basename(image).replace(/\.nii(\.gz)?$/, '');
      if (entry.reference === 'new') {
        study.reference = 'new';
        const ctDir = join(folder, `CT_${fileSafe(name)}`);
        await writeCtSeries(ctDir, entry.volume!, entry.identity, version);
        study.ctSeries.push(ctDir);
      }
      const header = entry.volume ?? (await readNiftiHeader(image));
      const segments: SegSegment[] = [];
      const perLesion: { c: (typeof chosen)[number]; mask: Mask; trackingUid: string }[] = [];
      for (const c of lesions) {
        let mask: Mask;
        try {
          mask = await readMask(c.run.maskPath!);
        } catch (e) {
          if (!isRecist3dError(e)) throw e;
          skipped.push({ lesionId: c.rec.lesionId, reason: e.message });
          continue;
        }
        if (
          mask.size.some((v, a) => v !== header.size[a]) ||
          !affinesClose(affineFromGrid(mask), affineFromGrid(header), 1e-3)
        ) {
          skipped.push({
            lesionId: c.rec.lesionId,
            reason: `mask grid (${mask.size.join('x')}, affine) is not the image grid (${header.size.join('x')})`,
          });
          continue;
        }
        const trackingUid = newUid();
        segments.push({ lesionId: c.rec.lesionId, category: c.rec.category, mask, trackingUid });
        perLesion.push({ c, mask, trackingUid });
        o.onProgress(++done, chosen.length, c.rec.lesionId);
      }
      if (segments.length === 0) continue;
      const seg = buildSeg(entry.identity, segments, { version });
      const segPath = join(folder, `SEG_${fileSafe(name)}.dcm`);
      await writeDicomFile(segPath, seg);
      study.seg.push(segPath);
      perLesion.forEach(({ c, mask, trackingUid }, si) => {
        const r = c.rec;
        const sp = header.spacingMm;
        const reader: SrRecist = {
          keySlice: r.keySlice,
          recist: r.recist,
          longMm: Number.isFinite(c.run.recistLongMm)
            ? c.run.recistLongMm
            : segmentLengthMm(r.recist.long[0], r.recist.long[1], sp),
          shortMm: Number.isFinite(c.run.recistShortMm)
            ? c.run.recistShortMm
            : segmentLengthMm(r.recist.short[0], r.recist.short[1], sp),
        };
        let auto: SrRecist | undefined;
        try {
          const a = recistFromMask({ ...mask, spacingMm: sp });
          auto = { keySlice: a.keySlice, recist: a.recist, longMm: a.longMm, shortMm: a.shortMm };
        } catch {
          // an empty or one-pixel-wide mask has no auto-RECIST; the SR then reports the volume only
        }
        srLesions.push({
          lesionId: r.lesionId,
          category: r.category,
          trackingUid,
          series: entry.identity,
          reader,
          auto,
          volumeMm3: c.run.volumeMm3,
          seg: {
            sopInstanceUid: String(seg.SOPInstanceUID),
            seriesInstanceUid: String(seg.SeriesInstanceUID),
            segmentNumber: si + 1,
          },
        });
        study.lesions.push(r.lesionId);
      });
    }
    if (srLesions.length === 0) continue;
    study.sr = join(folder, 'SR.dcm');
    await writeDicomFile(study.sr, buildSr(srLesions, { version }));
    exported.push(study);
  }
  const summaryPath = join(outDir, 'export.json');
  await writeFile(
    summaryPath,
    JSON.stringify(
      { run: runDir, manifest: manifestPath, version, studies: exported, skipped, notes },
      null,
      1,
    ) + '\n',
  );
  return { studies: exported, skipped, notes, summaryPath };
}
