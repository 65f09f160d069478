/**
 * Mapping an SR's RECIST axes to the manifest's RECIST: the image (or frame of reference) they were drawn on
 * decides the series and slice k; image coordinates (pixel corner at 0) become voxel coordinates (pixel centre
 * at 0) by subtracting half a pixel; SCOORD3D points (LPS) are projected onto the series grid and must lie on
 * one slice.
 */
import { Recist3dError } from '../errors.js';
import type { PointIJ, Recist } from '../types/recist.js';
import { lpsToVoxel, type DicomSeriesSidecar } from './sidecar.js';
import type { SrAxis, SrMeasurement } from './sr-read.js';

/** A measurement placed on a series. */
export interface PlacedRecist {
  /** Index of the series in the list given to placeRecist. */
  series: number;
  keySlice: number;
  recist: Recist;
}

/** Slice of the largest distance a SCOORD3D point may be off a slice plane, as a fraction of the step. */
const OFF_PLANE_TOLERANCE = 0.1;

function placeAxis(
  axis: SrAxis,
  series: readonly DicomSeriesSidecar[],
  bySop: Map<string, { series: number; k: number }>,
  file: string,
  what: string,
): { series: number; k: number; points: [PointIJ, PointIJ] } {
  if (axis.space === 'image') {
    const hit = bySop.get(axis.sopInstanceUid ?? '');
    if (!hit)
      throw new Recist3dError(
        'E_DICOM_REFERENCE',
        `The ${what} was drawn on SOP instance ${axis.sopInstanceUid}, which is in no imported series`,
        { file },
      );
    const p = axis.points.map((q) => [q[0] - 0.5, q[1] - 0.5] as PointIJ);
    return { ...hit, points: [p[0], p[1]] };
  }
  for (const [si, s] of series.entries()) {
    if (s.frameOfReferenceUid !== axis.frameOfReferenceUid) continue;
    const v = axis.points.map((q) => lpsToVoxel(s, q));
    const k = Math.round(v[0][2]);
    const inside = v.every(
      (q) =>
        Math.abs(q[2] - k) <= OFF_PLANE_TOLERANCE &&
        q[0] >= -0.5 &&
        q[0] <= s.columns - 0.5 &&
        q[1] >= -0.5 &&
        q[1] <= s.rows - 0.5,
    );
    if (inside && k >= 0 && k < s.slices.length)
      return { series: si, k, points: [v[0].slice(0, 2) as PointIJ, v[1].slice(0, 2) as PointIJ] };
  }
  throw new Recist3dError(
    'E_DICOM_REFERENCE',
    `The ${what} (SCOORD3D in frame of reference ${axis.frameOfReferenceUid}) lies on no slice of an imported series`,
    { file },
  );
}

/** Places one SR measurement on the imported series; throws E_DICOM_REFERENCE / E_DICOM_SR naming the SR file. */
export function placeRecist(m: SrMeasurement, series: readonly DicomSeriesSidecar[]): PlacedRecist {
  const bySop = new Map<string, { series: number; k: number }>();
  series.forEach((s, si) => s.slices.forEach((sl, k) => bySop.set(sl.sopInstanceUid, { series: si, k })));
  const what = (axis: string) => `${axis} of measurement group ${m.group}`;
  const long = placeAxis(m.long, series, bySop, m.file, what('Long Axis'));
  const short = placeAxis(m.short, series, bySop, m.file, what('Short Axis'));
  if (long.series !== short.series || long.k !== short.k)
    throw new Recist3dError(
      'E_DICOM_SR',
      `Measurement group ${m.group}: the Long and Short Axis lie on different slices (RECIST needs one slice)`,
      { file: m.file },
    );
  return { series: long.series, keySlice: long.k, recist: { long: long.points, short: short.points } };
}
