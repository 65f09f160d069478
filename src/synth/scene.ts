/**
 * A tiny scene renderer for phantoms: shapes with a signed distance (mm, negative inside) are painted
 * in order onto a HU grid with partial-volume blending, so edges are as soft as the voxel is wide
 * along the surface normal (a 5 mm slice smears the top of a lesion over a whole slice).
 */
import type { Vec3 } from '../types/volume.js';

/**
 * Signed distance (mm) from world point (x, y, z) to a surface; writes the outward unit normal
 * into `n`. `idx` is the voxel index, for shapes that wobble with a precomputed noise field.
 */
export type Sdf = (x: number, y: number, z: number, idx: number, n: Float64Array) => number;

/** The HU a shape paints: a base value plus `textureHu` times a smooth unit noise field. */
export interface Tissue {
  hu: number;
  /** Amplitude (HU) of the smooth texture field added inside this tissue. */
  textureHu: number;
  /**
   * Optional extra term: HU from the signed distance (mm, negative inside) and the voxel index
   * (rim enhancement, necrosis, calcification).
   */
  profile?: ((dMm: number, idx: number) => number) | undefined;
}

export interface Shape {
  sdf: Sdf;
  tissue: Tissue;
  /**
   * Extra width (mm) of the edge transition beyond the voxel's partial volume: an ill-defined margin
   * (the shape's mask, d < 0, is unchanged).
   */
  edgeMm?: number;
  /** True for a shape that covers the whole grid (painted without evaluating `sdf`, `profile` ignored). */
  fill?: boolean;
  /** World bounding box [min, max] (mm) outside which the shape is certainly empty; omit for all. */
  bboxMm?: [Vec3, Vec3];
}

export interface RenderGrid {
  size: Vec3;
  spacingMm: Vec3;
  /** Smooth unit-variance texture field on the grid. */
  texture: Float32Array;
}

/** Voxel index range [lo, hi) covered by a world bbox. */
function range(grid: RenderGrid, bbox: [Vec3, Vec3] | undefined, axis: 0 | 1 | 2): [number, number] {
  const n = grid.size[axis];
  if (!bbox) return [0, n];
  const s = grid.spacingMm[axis];
  const lo = Math.max(0, Math.floor(bbox[0][axis] / s - 1));
  const hi = Math.min(n, Math.ceil(bbox[1][axis] / s + 2));
  return [lo, Math.max(lo, hi)];
}

/** Paints `shape` onto `hu` (in place). Voxel (i, j, k) sits at world (i*sx, j*sy, k*sz). */
export function paint(hu: Float32Array, grid: RenderGrid, shape: Shape): void {
  const [ni, nj] = grid.size;
  const [sx, sy, sz] = grid.spacingMm;
  const [i0, i1] = range(grid, shape.bboxMm, 0);
  const [j0, j1] = range(grid, shape.bboxMm, 1);
  const [k0, k1] = range(grid, shape.bboxMm, 2);
  const n = new Float64Array(3);
  const { tissue, sdf } = shape;
  const edgeMm = shape.edgeMm ?? 0;
  if (shape.fill) {
    for (let idx = 0; idx < hu.length; idx++) hu[idx] = tissue.hu + tissue.textureHu * grid.texture[idx];
    return;
  }
  for (let k = k0; k < k1; k++) {
    for (let j = j0; j < j1; j++) {
      for (let i = i0; i < i1; i++) {
        const idx = i + ni * (j + nj * k);
        const d = sdf(i * sx, j * sy, k * sz, idx, n);
        const w = Math.abs(n[0]) * sx + Math.abs(n[1]) * sy + Math.abs(n[2]) * sz + edgeMm;
        const a = 0.5 - d / w;
        if (a <= 0) continue;
        let v = tissue.hu + tissue.textureHu * grid.texture[idx];
        if (tissue.profile) v += tissue.profile(d, idx);
        hu[idx] = a >= 1 ? v : hu[idx] + a * (v - hu[idx]);
      }
    }
  }
}

/** Marks voxels whose centre lies inside `sdf` (d < 0) with 1. */
export function rasterize(mask: Uint8Array, grid: RenderGrid, sdf: Sdf, bboxMm?: [Vec3, Vec3]): void {
  const [ni, nj] = grid.size;
  const [sx, sy, sz] = grid.spacingMm;
  const [i0, i1] = range(grid, bboxMm, 0);
  const [j0, j1] = range(grid, bboxMm, 1);
  const [k0, k1] = range(grid, bboxMm, 2);
  const n = new Float64Array(3);
  for (let k = k0; k < k1; k++) {
    for (let j = j0; j < j1; j++) {
      for (let i = i0; i < i1; i++) {
        const idx = i + ni * (j + nj * k);
        if (sdf(i * sx, j * sy, k * sz, idx, n) < 0) mask[idx] = 1;
      }
    }
  }
}

/**
 * Evaluates `sdf` once over the voxels of `bboxMm` and returns an Sdf that reads the stored values, so a
 * costly shape can be painted and rasterised without evaluating it twice. Voxels outside the box read as
 * far outside.
 */
export function cacheSdf(grid: RenderGrid, sdf: Sdf, bboxMm: [Vec3, Vec3]): Sdf {
  const [ni, nj] = grid.size;
  const [sx, sy, sz] = grid.spacingMm;
  const [i0, i1] = range(grid, bboxMm, 0);
  const [j0, j1] = range(grid, bboxMm, 1);
  const [k0, k1] = range(grid, bboxMm, 2);
  const bi = i1 - i0;
  const bj = j1 - j0;
  const count = bi * bj * (k1 - k0);
  const dist = new Float32Array(count);
  const normals = new Float32Array(3 * count);
  const n = new Float64Array(3);
  let b = 0;
  for (let k = k0; k < k1; k++) {
    for (let j = j0; j < j1; j++) {
      for (let i = i0; i < i1; i++, b++) {
        dist[b] = sdf(i * sx, j * sy, k * sz, i + ni * (j + nj * k), n);
        normals[3 * b] = n[0];
        normals[3 * b + 1] = n[1];
        normals[3 * b + 2] = n[2];
      }
    }
  }
  const plane = ni * nj;
  return (_x, _y, _z, idx, out) => {
    const k = Math.floor(idx / plane);
    const j = Math.floor((idx - k * plane) / ni);
    const i = idx - k * plane - j * ni;
    if (i < i0 || i >= i1 || j < j0 || j >= j1 || k < k0 || k >= k1) {
      out[0] = 0;
      out[1] = 0;
      out[2] = 1;
      return 1e6;
    }
    const c = i - i0 + bi * (j - j0 + bj * (k - k0));
    out[0] = normals[3 * c];
    out[1] = normals[3 * c + 1];
    out[2] = normals[3 * c + 2];
    return dist[c];
  };
}

// ---- primitive shapes -------------------------------------------------------------------------------

/**
 * Ellipsoid with semi-axes `radiiMm` rotated by `angleRad` about z. Distance is the radial
 * approximation |p| (1 - 1/r), exact on the surface. `wobble` (mm per unit texture) bends the surface.
 */
export function ellipsoid(
  centerMm: Vec3,
  radiiMm: Vec3,
  angleRad = 0,
  wobble?: { field: Float32Array; amplitudeMm: number },
): { sdf: Sdf; bboxMm: [Vec3, Vec3] } {
  const [cx, cy, cz] = centerMm;
  const [a, b, c] = radiiMm;
  const cs = Math.cos(angleRad);
  const sn = Math.sin(angleRad);
  const pad = (wobble?.amplitudeMm ?? 0) * 3 + 2;
  const rMax = Math.max(a, b) + pad;
  const sdf: Sdf = (x, y, z, idx, n) => {
    const dx = x - cx;
    const dy = y - cy;
    const dz = z - cz;
    const u = (cs * dx + sn * dy) / a;
    const v = (-sn * dx + cs * dy) / b;
    const w = dz / c;
    const r = Math.sqrt(u * u + v * v + w * w) + 1e-9;
    const len = Math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9;
    // gradient of r (unnormalised): ellipsoid normal
    const gx = (cs * u) / a - (sn * v) / b;
    const gy = (sn * u) / a + (cs * v) / b;
    const gz = w / c;
    const gl = Math.sqrt(gx * gx + gy * gy + gz * gz) + 1e-12;
    n[0] = gx / gl;
    n[1] = gy / gl;
    n[2] = gz / gl;
    let d = len * (1 - 1 / r);
    if (wobble) d -= wobble.amplitudeMm * wobble.field[idx];
    return d;
  };
  return {
    sdf,
    bboxMm: [
      [cx - rMax, cy - rMax, cz - c - pad],
      [cx + rMax, cy + rMax, cz + c + pad],
    ],
  };
}

/** A tapered capsule from p to q (radii rp, rq): one segment of a vessel, bronchus or bowel loop. */
export function capsule(p: Vec3, q: Vec3, rp: number, rq: number): { sdf: Sdf; bboxMm: [Vec3, Vec3] } {
  const ex = q[0] - p[0];
  const ey = q[1] - p[1];
  const ez = q[2] - p[2];
  const ee = ex * ex + ey * ey + ez * ez + 1e-12;
  const sdf: Sdf = (x, y, z, _idx, n) => {
    const px = x - p[0];
    const py = y - p[1];
    const pz = z - p[2];
    let t = (px * ex + py * ey + pz * ez) / ee;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    const dx = px - t * ex;
    const dy = py - t * ey;
    const dz = pz - t * ez;
    const len = Math.sqrt(dx * dx + dy * dy + dz * dz) + 1e-9;
    n[0] = dx / len;
    n[1] = dy / len;
    n[2] = dz / len;
    return len - (rp + t * (rq - rp));
  };
  const r = Math.max(rp, rq) + 1;
  return {
    sdf,
    bboxMm: [
      [Math.min(p[0], q[0]) - r, Math.min(p[1], q[1]) - r, Math.min(p[2], q[2]) - r],
      [Math.max(p[0], q[0]) + r, Math.max(p[1], q[1]) + r, Math.max(p[2], q[2]) + r],
    ],
  };
}

/**
 * Half-space {x : (x - point) . normal < 0} with a wobbly boundary: an organ or body wall edge that
 * crosses the crop. `normal` must be a unit vector pointing away from the filled side.
 */
export function halfSpace(
  pointMm: Vec3,
  normal: Vec3,
  wobble?: { field: Float32Array; amplitudeMm: number },
): { sdf: Sdf } {
  const sdf: Sdf = (x, y, z, idx, n) => {
    n[0] = normal[0];
    n[1] = normal[1];
    n[2] = normal[2];
    let d = (x - pointMm[0]) * normal[0] + (y - pointMm[1]) * normal[1] + (z - pointMm[2]) * normal[2];
    if (wobble) d -= wobble.amplitudeMm * wobble.field[idx];
    return d;
  };
  return { sdf };
}
