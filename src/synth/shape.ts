/**
 * Procedural lesion shapes: a superellipsoid whose radius is modulated by smooth lobes on the sphere
 * (lobulation, indentations, and for some lung lesions thin spicules). The radial modulation depends only
 * on direction, so the shape is star-shaped (one connected component). A follow-up study grows it by a linear
 * map in the lesion's own frame: `scale` times the per-axis factors `growthAxes` (product 1), which changes the
 * shape's proportions yet multiplies its volume by exactly scale^3 (a linear map scales volume by its
 * determinant).
 */
import type { Vec3 } from '../types/volume.js';
import type { LesionCategory } from '../types/recist.js';
import type { Rng } from '../util/random.js';
import type { Sdf } from './scene.js';

export interface Lobe {
  /** Unit direction of the lobe centre (in the lesion's normalised frame). */
  dir: Vec3;
  /** Relative radius change at the lobe centre (negative = indentation). */
  amp: number;
  /** Angular width: larger = broader bump (exp((cos - 1) / width)). */
  width: number;
}

export interface LesionShape {
  centerMm: Vec3;
  /** Semi-axes (mm) before lobulation and growth. */
  radiiMm: Vec3;
  /** In-plane rotation about z (rad). */
  angleRad: number;
  /** Tilt about the x axis (rad), so lesions are not aligned with the slices. */
  tiltRad: number;
  /** Superellipsoid exponent: 2 = ellipsoid, larger = boxier, smaller = diamond-like. */
  exponent: number;
  lobes: Lobe[];
  /** Isotropic growth factor (1 at baseline; a follow-up with volume ratio v uses v^(1/3)). */
  scale: number;
  /**
   * Per-axis growth along the shape's own axes (the axes of `radiiMm`), applied on top of `scale`; the
   * product is 1, so it changes proportions but not volume. [1, 1, 1] at baseline.
   */
  growthAxes: Vec3;
}

function unitVector(rng: Rng, zScale: number): Vec3 {
  const v: Vec3 = [rng.normal(), rng.normal(), rng.normal() * zScale];
  const l = Math.hypot(...v) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
}

/** Samples an irregular shape with the given long axis and short/long ratio, per category habits. */
export function sampleShape(
  rng: Rng,
  category: LesionCategory,
  centerMm: Vec3,
  longMm: number,
  shortOverLong: number,
): LesionShape {
  const a = longMm / 2;
  const b = Math.max(0.35, shortOverLong) * a;
  const c = Math.min(a * 1.1, b * rng.uniform(0.8, 1.35));
  const lobes: Lobe[] = [];
  const smoothish = category === 'kidney' || category === 'mediastinum' || category === 'pelvis';
  const nLobes = smoothish ? rng.int(4) : 2 + rng.int(6);
  const ampMax = smoothish ? 0.12 : category === 'lung' || category === 'bone' ? 0.3 : 0.22;
  for (let t = 0; t < nLobes; t++) {
    lobes.push({
      dir: unitVector(rng, 0.7),
      amp: rng.uniform(-0.5, 1) * ampMax,
      width: rng.uniform(0.08, 0.5),
    });
  }
  if (category === 'lung' && rng.next() < 0.35) {
    const nSpic = 3 + rng.int(6);
    for (let t = 0; t < nSpic; t++) {
      lobes.push({ dir: unitVector(rng, 0.5), amp: rng.uniform(0.15, 0.45), width: rng.uniform(0.01, 0.03) });
    }
  }
  // calibrate: lobes lengthen the longest in-plane diameter; rescale so it matches the requested long axis
  const probe: LesionShape = {
    centerMm,
    radiiMm: [a, b, c],
    angleRad: 0,
    tiltRad: 0,
    exponent: 2,
    lobes,
    scale: 1,
    growthAxes: [1, 1, 1],
  };
  const k = longMm / inPlaneDiameterMm(probe);
  return {
    centerMm,
    radiiMm: [a * k, b * k, c * k],
    angleRad: rng.uniform(0, Math.PI),
    tiltRad: rng.uniform(-0.35, 0.35),
    exponent: rng.next() < 0.7 ? 2 : rng.uniform(1.7, 2.8),
    lobes,
    scale: 1,
    growthAxes: [1, 1, 1],
  };
}

/**
 * Upper bound of the radial factor over all directions: its maximum over a Fibonacci sphere of
 * directions and the lobe centres, plus 3 % for what falls between samples.
 */
export function maxRadialFactor(shape: LesionShape): number {
  let best = radialFactor(shape, 0, 0, 1);
  for (const l of shape.lobes) best = Math.max(best, radialFactor(shape, ...l.dir));
  const count = 600;
  for (let t = 0; t < count; t++) {
    const z = 1 - (2 * (t + 0.5)) / count;
    const rho = Math.sqrt(1 - z * z);
    const phi = t * 2.399963229728653;
    best = Math.max(best, radialFactor(shape, rho * Math.cos(phi), rho * Math.sin(phi), z));
  }
  return best * 1.03;
}

/** Longest diameter through the centre in the lesion's own axial plane (before rotation and tilt). */
function inPlaneDiameterMm(shape: LesionShape): number {
  const [a, b] = shape.radiiMm;
  const point = (t: number): [number, number] => {
    const f = radialFactor(shape, Math.cos(t), Math.sin(t), 0);
    return [f * a * Math.cos(t), f * b * Math.sin(t)];
  };
  let best = 0;
  for (let q = 0; q < 180; q++) {
    const t = (q * Math.PI) / 180;
    const p1 = point(t);
    const p2 = point(t + Math.PI);
    best = Math.max(best, Math.hypot(p1[0] - p2[0], p1[1] - p2[1]));
  }
  return best;
}

/** Largest world-space radius the shape can reach (mm), for bounding boxes and crop sizes. */
export function maxRadiusMm(shape: LesionShape): number {
  const boost = maxRadialFactor(shape);
  // superellipsoid with exponent < 2 never exceeds the ellipsoid; > 2 reaches corners at most 3^(1/2-1/m)
  const corner = shape.exponent > 2 ? Math.pow(3, 0.5 - 1 / shape.exponent) : 1;
  // a per-axis scaling moves no point further from the centre than its largest factor does
  return Math.max(...grownRadiiMm(shape)) * boost * corner;
}

/** Semi-axes (mm) after growth: radiiMm times scale times growthAxes. */
export function grownRadiiMm(shape: LesionShape): Vec3 {
  const { radiiMm: r, scale: s, growthAxes: g } = shape;
  return [r[0] * s * g[0], r[1] * s * g[1], r[2] * s * g[2]];
}

/** Half-extent (mm) of the shape's bounding box along x, y and z (z is usually much shorter). */
export function halfExtentMm(shape: LesionShape): Vec3 {
  const r = maxRadiusMm(shape);
  const [a, b, c] = grownRadiiMm(shape);
  // world z = sin(tilt) * (own y) + cos(tilt) * (own z), and |own y| <= b * factor, |own z| <= c * factor
  const zFrac = (c + Math.max(a, b) * Math.abs(Math.sin(shape.tiltRad))) / Math.max(a, b, c);
  return [r, r, Math.min(r, r * zFrac)];
}

/** The relative radius in normalised direction d (always >= 0.45: star-shaped, connected). */
function radialFactor(shape: LesionShape, dx: number, dy: number, dz: number): number {
  let f = 1;
  for (const l of shape.lobes) {
    const cos = dx * l.dir[0] + dy * l.dir[1] + dz * l.dir[2];
    f += l.amp * Math.exp((cos - 1) / l.width);
  }
  return f < 0.45 ? 0.45 : f;
}

/** Signed radial distance (mm) to the lesion surface; the normal is the ellipsoid's. */
export function lesionSdf(shape: LesionShape): Sdf {
  const [cx, cy, cz] = shape.centerMm;
  const [a, b, c] = grownRadiiMm(shape);
  const ct = Math.cos(shape.angleRad);
  const st = Math.sin(shape.angleRad);
  const cp = Math.cos(shape.tiltRad);
  const sp = Math.sin(shape.tiltRad);
  const m = shape.exponent;
  const isEllipsoid = m === 2;
  const fMax = maxRadialFactor(shape);
  return (x, y, z, _idx, n) => {
    const px = x - cx;
    const py = y - cy;
    const pz = z - cz;
    // rotate about z by angle, then about x by tilt
    const rx = ct * px + st * py;
    const ry0 = -st * px + ct * py;
    const ry = cp * ry0 + sp * pz;
    const rz = -sp * ry0 + cp * pz;
    const u = rx / a;
    const v = ry / b;
    const w = rz / c;
    const len = Math.sqrt(px * px + py * py + pz * pz) + 1e-9;
    const e2 = Math.sqrt(u * u + v * v + w * w) + 1e-9;
    const r = isEllipsoid
      ? e2
      : Math.pow(Math.pow(Math.abs(u), m) + Math.pow(Math.abs(v), m) + Math.pow(Math.abs(w), m), 1 / m) +
        1e-9;
    // far outside every lobe (lower bound of the distance > 8 mm, beyond any voxel's partial volume):
    // skip the lobes and return that lower bound
    const lower = r > fMax ? len * (1 - fMax / r) : 0;
    const f = lower > 8 ? fMax : radialFactor(shape, u / e2, v / e2, w / e2);
    // normal: gradient of the ellipsoid form, rotated back to world
    const gx = u / a;
    const gy0 = v / b;
    const gz0 = w / c;
    const gy = cp * gy0 - sp * gz0;
    const gz = sp * gy0 + cp * gz0;
    const wx = ct * gx - st * gy;
    const wy = st * gx + ct * gy;
    const gl = Math.sqrt(wx * wx + wy * wy + gz * gz) + 1e-12;
    n[0] = wx / gl;
    n[1] = wy / gl;
    n[2] = gz / gl;
    return len * (1 - f / r);
  };
}

/**
 * Per-axis growth factors for a follow-up: log-normal with standard deviation `sigmaLog` per axis (draws
 * clipped at 2 sigma), divided by their geometric mean so the product is 1 (the volume change stays the
 * planned one). sigmaLog 0 gives [1, 1, 1].
 */
export function sampleGrowthAxes(rng: Rng, sigmaLog: number): Vec3 {
  const l = [0, 1, 2].map(() => sigmaLog * Math.max(-2, Math.min(2, rng.normal())));
  const mean = (l[0] + l[1] + l[2]) / 3;
  return [Math.exp(l[0] - mean), Math.exp(l[1] - mean), Math.exp(l[2] - mean)];
}
