/**
 * Building blocks shared by the host-tissue scenes: fills, vessel trees, tubes with walls, layered walls.
 */
import type { Vec3 } from '../types/volume.js';
import type { Rng } from '../util/random.js';
import type { LesionShape } from './shape.js';
import type { LesionLook } from './lesion-look.js';
import { capsule, halfSpace, type RenderGrid, type Shape, type Tissue } from './scene.js';

/** What a host scene is built from: the grid, a seeded generator and where the lesion sits. */
export interface HostContext {
  grid: RenderGrid;
  rng: Rng;
  lesion: LesionShape;
  /** Largest lesion radius (mm) over the studies of this lesion (baseline and follow-up). */
  lesionRadiusMm: number;
  /** Smooth, coarse unit noise field for wobbling organ boundaries. */
  wobble: Float32Array;
  /** Crop extent (mm) along i, j, k. */
  fovMm: Vec3;
  /** True when a structure of similar density must touch the lesion. */
  touching: boolean;
}

/** A host scene: shapes painted in order before the lesion, and the lesion's own tissue. */
export interface HostScene {
  shapes: Shape[];
  look: LesionLook;
  lesionTissue: Tissue;
  /** Set when the scene already placed a touching neighbour (else a generic one is added). */
  touchingDone?: boolean;
}

export const tissue = (hu: number, textureHu = 6): Tissue => ({ hu, textureHu });

/** A shape that covers the whole crop. */
export function fill(t: Tissue): Shape {
  return {
    tissue: t,
    fill: true,
    sdf: (_x, _y, _z, _i, n) => {
      n[0] = 0;
      n[1] = 0;
      n[2] = 1;
      return -1e6;
    },
  };
}

/** A random unit vector in the axial plane. */
export function inPlaneDir(rng: Rng): Vec3 {
  const t = rng.uniform(0, 2 * Math.PI);
  return [Math.cos(t), Math.sin(t), 0];
}

export const add = (p: Vec3, d: Vec3, s: number): Vec3 => [p[0] + s * d[0], p[1] + s * d[1], p[2] + s * d[2]];

/** A point at distance `distMm` from the lesion centre along `dir`. */
export function fromLesion(ctx: HostContext, dir: Vec3, distMm: number): Vec3 {
  return add(ctx.lesion.centerMm, dir, distMm);
}

/**
 * A random-walk tube (vessel, bronchus, bowel loop) of `segments` capsules starting at `start`,
 * tapering from r0 to r1. `zBias` < 1 keeps it closer to the axial plane.
 */
export function tube(
  rng: Pick<Rng, 'normal'>,
  start: Vec3,
  dir0: Vec3,
  segments: number,
  stepMm: number,
  r0: number,
  r1: number,
  t: Tissue,
  zBias = 1,
): Shape[] {
  const out: Shape[] = [];
  let p = start;
  let d = dir0;
  for (let s = 0; s < segments; s++) {
    const nd: Vec3 = [
      d[0] + 0.35 * rng.normal(),
      d[1] + 0.35 * rng.normal(),
      d[2] + 0.35 * rng.normal() * zBias,
    ];
    const l = Math.hypot(...nd) || 1;
    d = [nd[0] / l, nd[1] / l, nd[2] / l];
    const q = add(p, d, stepMm);
    const ra = r0 + ((r1 - r0) * s) / segments;
    const rb = r0 + ((r1 - r0) * (s + 1)) / segments;
    out.push({ ...capsule(p, q, ra, rb), tissue: t });
    p = q;
  }
  return out;
}

/** A random point inside the crop. */
export function randomPoint(ctx: HostContext): Vec3 {
  const f = ctx.fovMm;
  return [ctx.rng.uniform(0, f[0]), ctx.rng.uniform(0, f[1]), ctx.rng.uniform(0, f[2])];
}

/** A random unit vector (any direction). */
export function randomDir(rng: Rng, zScale = 1): Vec3 {
  const v: Vec3 = [rng.normal(), rng.normal(), rng.normal() * zScale];
  const l = Math.hypot(...v) || 1;
  return [v[0] / l, v[1] / l, v[2] / l];
}

/** A branching-looking vessel tree: `count` tapering tubes from random points. */
export function vessels(ctx: HostContext, count: number, rMax: number, t: Tissue): Shape[] {
  const out: Shape[] = [];
  const { rng } = ctx;
  for (let v = 0; v < count; v++) {
    const u = rng.next();
    const r0 = 0.5 + (rMax - 0.5) * u * u; // mostly small vessels, a few large ones
    out.push(
      ...tube(rng, randomPoint(ctx), randomDir(rng), 4 + rng.int(4), rng.uniform(8, 18), r0, r0 * 0.6, t),
    );
  }
  return out;
}

/** A tube with a wall: the wall tissue first, then the lumen `wallMm` thinner along the same path. */
export function walledTube(
  rng: Rng,
  start: Vec3,
  dir: Vec3,
  segments: number,
  stepMm: number,
  radiusMm: number,
  wallMm: number,
  wall: Tissue,
  lumen: Tissue,
  zBias = 1,
): Shape[] {
  const seed = Math.floor(rng.next() * 2 ** 32);
  const path = (r: number, t: Tissue) => tube(walkRng(seed), start, dir, segments, stepMm, r, r, t, zBias);
  return [...path(radiusMm, wall), ...path(radiusMm - wallMm, lumen)];
}

/** A tiny deterministic normal generator so a wall and its lumen follow the same path. */
function walkRng(seed: number): Pick<Rng, 'normal'> {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    normal: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
  };
}

/**
 * Body-wall layers beyond a plane at distance `distMm` from the lesion along `dir`, listed from the
 * lesion outwards as [tissue, thickness mm]; the last one extends to infinity.
 */
export function layers(ctx: HostContext, dir: Vec3, distMm: number, ls: [Tissue, number][]): Shape[] {
  const out: Shape[] = [];
  let offset = distMm;
  const inward: Vec3 = [-dir[0], -dir[1], -dir[2]];
  for (const [t, thick] of ls) {
    out.push({
      tissue: t,
      ...halfSpace(fromLesion(ctx, dir, offset), inward, { field: ctx.wobble, amplitudeMm: 2 }),
    });
    offset += thick;
  }
  return out;
}
