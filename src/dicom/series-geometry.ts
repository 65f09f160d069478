/**
 * Geometry of a series of single-frame slices: slices sorted by position along the slice normal, spacing from
 * ImagePositionPatient (never SliceThickness), and the checks that refuse what a regular 3D grid cannot hold
 * (two orientations, gantry tilt, duplicate positions, missing slices, uneven spacing). Coordinates here are
 * DICOM patient coordinates (LPS, mm); lpsToRas turns a grid into the NIfTI world (RAS).
 */
import { Recist3dError } from '../errors.js';
import type { Mat3, Vec3 } from '../types/volume.js';
import { resolveOptions } from '../util/options.js';

/** What the geometry needs from one slice. */
export interface SlicePlane {
  file: string;
  /** ImageOrientationPatient: row direction (along a row, i.e. increasing column), then column direction. */
  orientation: [number, number, number, number, number, number];
  /** ImagePositionPatient: centre of the first transmitted pixel, mm (LPS). */
  position: Vec3;
  /** PixelSpacing: [between rows (j), between columns (i)] in mm, as DICOM orders it. */
  pixelSpacing: [number, number];
  rows: number;
  columns: number;
}

/** A regular grid in LPS: direction columns are the i (row direction), j (column direction) and k (normal) axes. */
export interface SeriesGrid {
  size: Vec3;
  spacingMm: Vec3;
  origin: Vec3;
  direction: Mat3;
}

export interface SeriesGeometryOptions {
  /** Allowed deviation of one slice step from the series' step, relative to the step. */
  spacingTolerance?: number;
  /** The same in mm: a step is uneven only when it deviates by more than both. */
  spacingToleranceMm?: number;
  /** Largest in-plane drift of ImagePositionPatient per mm along the normal before the series counts as tilted. */
  tiltTolerance?: number;
  /** Largest difference between two slices' direction cosines that still counts as one orientation. */
  orientationTolerance?: number;
}

const DEFAULTS = {
  spacingTolerance: 0.01,
  spacingToleranceMm: 0.01,
  tiltTolerance: 0.002,
  orientationTolerance: 1e-4,
} satisfies Required<SeriesGeometryOptions>;

const dot = (a: readonly number[], b: readonly number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: readonly number[], b: readonly number[]): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];
const fmt = (v: readonly number[]) => `[${v.map((x) => +x.toFixed(4)).join(', ')}]`;

/**
 * Sorts the slices along the normal (row x column direction) and returns their order and the grid. Throws
 * E_DICOM_SERIES naming the offending file(s) when the slices do not form one regular grid.
 */
export function seriesGeometry(
  slices: readonly SlicePlane[],
  options: SeriesGeometryOptions = {},
): { order: number[]; grid: SeriesGrid } {
  const o = resolveOptions(DEFAULTS, options);
  const fail = (msg: string, file: string) => {
    throw new Recist3dError('E_DICOM_SERIES', msg, { file });
  };
  if (slices.length < 2)
    fail(
      `The series has ${slices.length} slice(s); a 3D volume needs at least 2 (spacing comes from their positions)`,
      slices[0]?.file ?? '',
    );
  const ref = slices[0];
  for (const s of slices) {
    if (s.orientation.some((v, a) => !(Math.abs(v - ref.orientation[a]) <= o.orientationTolerance)))
      fail(
        `Two orientations in one series: ImageOrientationPatient ${fmt(s.orientation)} here, ` +
          `${fmt(ref.orientation)} in ${ref.file}`,
        s.file,
      );
    if (s.rows !== ref.rows || s.columns !== ref.columns)
      fail(`Slice is ${s.columns}x${s.rows}, ${ref.file} is ${ref.columns}x${ref.rows}`, s.file);
    if (s.pixelSpacing.some((v, a) => Math.abs(v - ref.pixelSpacing[a]) > 1e-4 * Math.max(1, v)))
      fail(
        `PixelSpacing ${fmt(s.pixelSpacing)} differs from ${fmt(ref.pixelSpacing)} in ${ref.file}`,
        s.file,
      );
  }
  const r = ref.orientation.slice(0, 3);
  const c = ref.orientation.slice(3, 6);
  if (
    Math.abs(dot(r, c)) > 1e-3 ||
    Math.abs(Math.hypot(...r) - 1) > 1e-3 ||
    Math.abs(Math.hypot(...c) - 1) > 1e-3
  )
    fail(`ImageOrientationPatient ${fmt(ref.orientation)} is not two orthogonal unit vectors`, ref.file);
  const n = cross(r, c);
  const d = slices.map((s) => dot(s.position, n));
  const order = d.map((_, i) => i).sort((a, b) => d[a] - d[b]);
  const steps = order.slice(1).map((idx, q) => d[idx] - d[order[q]]);
  const sorted = [...steps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  for (const [q, step] of steps.entries()) {
    const a = slices[order[q]];
    const b = slices[order[q + 1]];
    if (step < 1e-3 * Math.max(median, 1e-3))
      fail(
        `Two slices at the same position (${d[order[q]].toFixed(3)} mm along the normal): this file and ${a.file} ` +
          '(several acquisitions, phases or echoes in one series?)',
        b.file,
      );
  }
  for (const [q, step] of steps.entries()) {
    const a = slices[order[q]];
    const b = slices[order[q + 1]];
    const delta = b.position.map((v, ax) => v - a.position[ax]);
    const inPlane = Math.hypot(...delta.map((v, ax) => v - step * n[ax]));
    if (inPlane > o.tiltTolerance * step + 1e-3) {
      const deg = (Math.atan2(inPlane, step) * 180) / Math.PI;
      fail(
        `Gantry tilt or sheared series: ImagePositionPatient moves ${inPlane.toFixed(3)} mm in-plane over a ` +
          `${step.toFixed(3)} mm step from ${a.file} (${deg.toFixed(2)} degrees); resample the series to an ` +
          'untilted grid first (e.g. dcm2niix corrects tilt)',
        b.file,
      );
    }
    const tol = Math.max(o.spacingToleranceMm, o.spacingTolerance * median);
    if (Math.abs(step - median) > tol) {
      const missing = Math.round(step / median) - 1;
      fail(
        missing >= 1 && Math.abs(step - (missing + 1) * median) <= tol * (missing + 1)
          ? `Missing slice(s): a gap of ${step.toFixed(3)} mm after ${a.file}, where the series steps ` +
              `${median.toFixed(3)} mm (about ${missing} slice(s) absent)`
          : `Uneven slice spacing: a step of ${step.toFixed(3)} mm after ${a.file}, where the series steps ` +
              `${median.toFixed(3)} mm (tolerance ${tol.toFixed(3)} mm)`,
        b.file,
      );
    }
  }
  const first = slices[order[0]];
  const spacingK = (d[order[order.length - 1]] - d[order[0]]) / (order.length - 1);
  const grid: SeriesGrid = {
    size: [ref.columns, ref.rows, slices.length],
    spacingMm: [ref.pixelSpacing[1], ref.pixelSpacing[0], spacingK],
    origin: [...first.position] as Vec3,
    direction: [r[0], c[0], n[0], r[1], c[1], n[1], r[2], c[2], n[2]],
  };
  return { order, grid };
}

/** LPS <-> RAS: negate x and y of the origin and of every direction column (the map is its own inverse). */
export function lpsToRas<G extends { origin: Vec3; direction: Mat3 }>(g: G): G {
  const neg = (v: number) => (v === 0 ? 0 : -v); // no -0 in the written direction cosines
  const dir = [...g.direction] as Mat3;
  for (let col = 0; col < 3; col++) {
    dir[col] = neg(dir[col]);
    dir[3 + col] = neg(dir[3 + col]);
  }
  return { ...g, origin: [neg(g.origin[0]), neg(g.origin[1]), g.origin[2]], direction: dir };
}

/** The same map for one point. */
export function lpsPointToRas(p: Vec3): Vec3 {
  return [p[0] === 0 ? 0 : -p[0], p[1] === 0 ? 0 : -p[1], p[2]];
}
