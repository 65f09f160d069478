/**
 * RT Structure Set contours to binary masks on an imported series: each ROI's CLOSED_PLANAR contours are
 * mapped from patient coordinates to voxels and filled at pixel centres with the even-odd rule (so an inner
 * contour on the same slice is a hole). Used to turn a PACS export of CT + RTSTRUCT into lesions with a
 * ground-truth mask and RECIST measured from it.
 */
import { Recist3dError } from '../errors.js';
import type { Mask } from '../types/volume.js';
import type { DicomFile } from './part10.js';
import { lpsToVoxel, type DicomSeriesSidecar } from './sidecar.js';
import { items } from './values.js';

/** One ROI rasterised on one series. */
export interface RoiMask {
  roiNumber: number;
  roiName: string;
  /** Index of the series (in the list given) the ROI lies on. */
  series: number;
  mask: Mask;
}

/** Largest distance (in slices) a contour may lie off a slice plane. */
const OFF_PLANE_TOLERANCE = 0.1;

/** Fills one polygon (voxel i, j) into a slice with XOR, at pixel centres (even-odd rule). */
function fillPolygon(slice: Uint8Array, ni: number, nj: number, poly: [number, number][]): void {
  const n = poly.length;
  const ys = poly.map((p) => p[1]);
  const j0 = Math.max(0, Math.ceil(Math.min(...ys)));
  const j1 = Math.min(nj - 1, Math.floor(Math.max(...ys)));
  for (let j = j0; j <= j1; j++) {
    const xs: number[] = [];
    for (let e = 0; e < n; e++) {
      const [xa, ya] = poly[e];
      const [xb, yb] = poly[(e + 1) % n];
      if (ya <= j !== yb <= j) xs.push(xa + ((j - ya) * (xb - xa)) / (yb - ya));
    }
    xs.sort((a, b) => a - b);
    for (let q = 0; q + 1 < xs.length; q += 2) {
      const i0 = Math.max(0, Math.ceil(xs[q]));
      const i1 = Math.min(ni - 1, Math.floor(xs[q + 1]));
      for (let i = i0; i <= i1; i++) slice[i + ni * j] ^= 1;
    }
  }
}

/**
 * Rasterises every ROI of the structure set onto the series whose Frame of Reference it uses. ROIs without
 * closed planar contours are skipped; a contour that lies between slices is an E_DICOM_REFERENCE error naming
 * the file. `volumes` are the series' grids (size only is used).
 */
export function rtstructMasks(f: DicomFile, series: readonly DicomSeriesSidecar[]): RoiMask[] {
  const names = new Map<number, string>();
  const roiFor = new Map<number, string>();
  for (const roi of items(f.dataset.StructureSetROISequence)) {
    names.set(Number(roi.ROINumber), String(roi.ROIName ?? `ROI ${roi.ROINumber}`));
    roiFor.set(Number(roi.ROINumber), String(roi.ReferencedFrameOfReferenceUID ?? ''));
  }
  const out: RoiMask[] = [];
  for (const rc of items(f.dataset.ROIContourSequence)) {
    const roiNumber = Number(rc.ReferencedROINumber);
    const contours = items(rc.ContourSequence).filter(
      (c) => String(c.ContourGeometricType ?? '') === 'CLOSED_PLANAR',
    );
    if (contours.length === 0) continue;
    const forUid = roiFor.get(roiNumber) ?? '';
    const si = series.findIndex((s) => s.frameOfReferenceUid === forUid);
    if (si < 0)
      throw new Recist3dError(
        'E_DICOM_REFERENCE',
        `ROI "${names.get(roiNumber)}" is in frame of reference ${forUid || '(none)'}, which no imported series uses`,
        { file: f.file },
      );
    const s = series[si];
    const [ni, nj, nk] = [s.columns, s.rows, s.slices.length];
    const data = new Uint8Array(ni * nj * nk);
    for (const c of contours) {
      const pts = (Array.isArray(c.ContourData) ? c.ContourData : []).map(Number);
      const vox: [number, number][] = [];
      let k = Number.NaN;
      for (let q = 0; q + 2 < pts.length; q += 3) {
        const v = lpsToVoxel(s, [pts[q], pts[q + 1], pts[q + 2]]);
        if (Number.isNaN(k)) k = Math.round(v[2]);
        if (Math.abs(v[2] - k) > OFF_PLANE_TOLERANCE)
          throw new Recist3dError(
            'E_DICOM_REFERENCE',
            `ROI "${names.get(roiNumber)}": a contour is not on one slice plane of the series (k ${v[2].toFixed(2)})`,
            { file: f.file },
          );
        vox.push([v[0], v[1]]);
      }
      if (vox.length < 3 || k < 0 || k >= nk) continue;
      fillPolygon(data.subarray(k * ni * nj, (k + 1) * ni * nj), ni, nj, vox);
    }
    out.push({
      roiNumber,
      roiName: names.get(roiNumber) ?? `ROI ${roiNumber}`,
      series: si,
      mask: {
        size: [ni, nj, nk],
        spacingMm: [1, 1, 1],
        origin: [0, 0, 0],
        direction: [1, 0, 0, 0, 1, 0, 0, 0, 1],
        data,
        meta: {},
      },
    });
  }
  return out;
}
