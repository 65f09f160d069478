/**
 * One phantom study of one lesion: a small CT crop (int16 HU) and its ground-truth mask (uint8).
 * Anatomy (host scene, lesion shape, tissue texture) comes from `anatomySeed`, so a follow-up study with
 * the same anatomy seed shows the same lesion in the same place, grown by `scale` and stretched along its own
 * axes by `growthAxes`; scanner noise comes from `scanSeed`.
 */
import { isRecist3dError, Recist3dError } from '../errors.js';
import { IDENTITY_DIRECTION, type Mask, type Mat3, type Vec3, type Volume } from '../types/volume.js';
import { createRng } from '../util/random.js';
import type { HostContext, HostScene } from './host-kit.js';
import { abdomenHost, kidneyHost, liverHost, pelvisHost, softTissueHost } from './hosts-abdomen.js';
import { boneHost, lungHost, mediastinumHost } from './hosts-chest.js';
import { addWhiteNoise, blurInPlane, blurredNoiseStd, valueNoise3d } from './noise.js';
import type { PhantomCategory } from './sample.js';
import { cacheSdf, ellipsoid, paint, rasterize, type RenderGrid, type Sdf } from './scene.js';
import { librarySdf, libraryShape, readShapeMask, type LibraryShape } from './library.js';
import { halfExtentMm, lesionSdf, sampleShape, type LesionShape } from './shape.js';

const HOSTS: Record<PhantomCategory, (ctx: HostContext) => HostScene> = {
  bone: boneHost,
  abdomen: abdomenHost,
  mediastinum: mediastinumHost,
  liver: liverHost,
  lung: lungHost,
  kidney: kidneyHost,
  soft_tissue: softTissueHost,
  pelvis: pelvisHost,
};

export interface PhantomSpec {
  /** Lesion id, for metadata and error messages. */
  lesionId: string;
  /** DeepLesion category: picks the host scene and the lesion's look. */
  category: PhantomCategory;
  /** Seed of everything anatomical (shared by the studies of one lesion). */
  anatomySeed: string;
  /** Seed of the scanner noise of this study. */
  scanSeed: string;
  /** Target RECIST long axis (mm) at baseline. */
  longMm: number;
  /** Target short/long axis ratio (procedural shapes; a real shape keeps its own). */
  shortOverLong: number;
  /** Voxel spacing (mm) of the crop: in-plane, in-plane, slice. */
  spacingMm: Vec3;
  /** A structure of similar density touches the lesion. */
  touching: boolean;
  /** Linear growth factor of this study (1 = baseline); the volume changes by scale^3. */
  scale: number;
  /**
   * Per-axis growth along the lesion's own axes on top of `scale`, product 1 (changes proportions, not
   * volume); default [1, 1, 1]. Procedural shapes: the axes of the superellipsoid; real shapes: the source
   * mask's axes.
   */
  growthAxes?: Vec3;
  /**
   * Largest linear growth along any axis over this lesion's studies (max of scale times the largest
   * growthAxes factor), so all studies share one grid that holds the lesion in each of them.
   */
  maxScale: number;
  /** A real lesion mask (uint8 NIfTI) to use as the shape instead of a procedural one (optional). */
  shapeFile?: string | undefined;
}

export interface Phantom {
  image: Volume<Int16Array>;
  mask: Mask;
  /** Lesion kind (cyst, hypodense, solid, lytic...). */
  kind: string;
  /** CT noise standard deviation (HU) of this study. */
  noiseSigmaHu: number;
  /** Ground-truth lesion volume (mask voxels times voxel volume, mm^3). */
  volumeMm3: number;
}

/** Crop size in voxels: the lesion at its largest plus a margin, 96..192 in-plane. */
function cropSize(halfMm: Vec3, spacingMm: Vec3): Vec3 {
  const [r, , rz] = halfMm;
  const n = Math.min(192, Math.max(96, Math.ceil((2 * r + Math.max(30, r)) / spacingMm[0] / 8) * 8));
  const marginZ = Math.max(3 * spacingMm[2], 8);
  const nk = Math.max(8, Math.ceil((2 * rz + 2 * marginZ) / spacingMm[2]) + 1);
  return [n, n, nk];
}

/** Distance (mm) from `centerMm` to the surface of `sdf` along `dir`, by marching. */
function surfaceDistanceMm(sdf: Sdf, centerMm: Vec3, dir: Vec3): number {
  const n = new Float64Array(3);
  const [cx, cy, cz] = centerMm;
  let t = 0;
  while (t < 500 && sdf(cx + t * dir[0], cy + t * dir[1], cz + t * dir[2], 0, n) < 0) t += 0.25;
  return t;
}

/** Growth of one study: isotropic `scale` times per-axis `axes` (product 1) in the lesion's own frame. */
interface Growth {
  scale: number;
  axes: Vec3;
}

/** The lesion's geometry, procedural or from the shape library, at a given centre and growth. */
interface LesionGeometry {
  /** Procedural stand-in that hosts use for placement (centre, radii, scale). */
  shape: LesionShape;
  halfExtentMm(growth: Growth): Vec3;
  sdf(centerMm: Vec3, growth: Growth): Sdf;
  /** Library file used, if any. */
  file?: string;
}

const libraryCache = new Map<string, LibraryShape>();

function lesionGeometry(spec: PhantomSpec, shape0: LesionShape): LesionGeometry {
  if (!spec.shapeFile) {
    return {
      shape: shape0,
      halfExtentMm: ({ scale, axes }) => halfExtentMm({ ...shape0, scale, growthAxes: axes }),
      sdf: (centerMm, { scale, axes }) => lesionSdf({ ...shape0, centerMm, scale, growthAxes: axes }),
    };
  }
  let lib = libraryCache.get(spec.shapeFile);
  if (!lib) {
    try {
      lib = libraryShape(readShapeMask(spec.shapeFile), spec.shapeFile);
    } catch (e) {
      // an unusable real mask (empty, one pixel wide, not uint8): fall back to the procedural shape;
      // a damaged or unreadable file is an error naming it
      if (!isRecist3dError(e) || /^E_(FILE|NIFTI_(TRUNCATED|CORRUPT))/.test(e.code)) throw e;
      return lesionGeometry({ ...spec, shapeFile: undefined }, shape0);
    }
    if (libraryCache.size > 64) libraryCache.clear();
    libraryCache.set(spec.shapeFile, lib);
  }
  const shape = lib;
  const k = spec.longMm / shape.longMm;
  const [hx, hy, hz] = shape.halfExtentMm;
  // per source axis: source mm -> world mm
  const kAxes = ({ scale, axes }: Growth): Vec3 => [
    k * scale * axes[0],
    k * scale * axes[1],
    k * scale * axes[2],
  ];
  return {
    shape: {
      ...shape0,
      radiiMm: [(shape.longMm * k) / 2, (shape.shortMm * k) / 2, hz * k],
      lobes: [],
      exponent: 2,
      tiltRad: 0,
    },
    halfExtentMm: (growth) => {
      const [kx, ky, kz] = kAxes(growth);
      // the source x-y box rotated about z stays within its half-diagonal
      const hxy = Math.hypot(hx * kx, hy * ky);
      return [hxy, hxy, hz * kz];
    },
    sdf: (centerMm, growth) => librarySdf(shape, centerMm, shape0.angleRad, kAxes(growth)),
    file: spec.shapeFile,
  };
}

/** Renders one study of one lesion. Deterministic in (spec). */
export function generatePhantom(spec: PhantomSpec): Phantom {
  const rng = createRng(`anatomy:${spec.anatomySeed}`);
  const geometry = lesionGeometry(
    spec,
    sampleShape(rng, spec.category, [0, 0, 0], spec.longMm, spec.shortOverLong),
  );
  // every study of the lesion fits the grid: scale * growthAxes <= maxScale along every own axis
  const gridGrowth: Growth = { scale: spec.maxScale, axes: [1, 1, 1] };
  const growth: Growth = { scale: spec.scale, axes: spec.growthAxes ?? [1, 1, 1] };
  const size = cropSize(geometry.halfExtentMm(gridGrowth), spec.spacingMm);
  const [sx, sy, sz] = spec.spacingMm;
  const kc = Math.floor(size[2] / 2);
  const center: Vec3 = [
    (size[0] / 2 + rng.uniform(-0.06, 0.06) * size[0]) * sx,
    (size[1] / 2 + rng.uniform(-0.06, 0.06) * size[1]) * sy,
    // off the slice centre by at most 0.3 slice and 0.2 of the smallest z radius, so the slice through the
    // centre always cuts the lesion near its widest (even shrunk to 0.7 in a follow-up)
    kc * sz + rng.uniform(-1, 1) * Math.min(0.3 * sz, 0.2 * geometry.shape.radiiMm[2]),
  ];
  const shape: LesionShape = {
    ...geometry.shape,
    centerMm: center,
    scale: growth.scale,
    growthAxes: growth.axes,
  };
  const lesion = geometry.sdf(center, growth);
  const grid: RenderGrid = {
    size,
    spacingMm: spec.spacingMm,
    texture: valueNoise3d(size, spec.spacingMm, 2.5, rng),
  };
  const wobble = valueNoise3d(size, spec.spacingMm, 18, rng);
  const ctx: HostContext = {
    grid,
    rng,
    lesion: shape,
    lesionRadiusMm: geometry.halfExtentMm(gridGrowth)[0],
    wobble,
    fovMm: [size[0] * sx, size[1] * sy, size[2] * sz],
    touching: spec.touching,
  };
  const host = HOSTS[spec.category](ctx);
  const n = size[0] * size[1] * size[2];
  const hu = new Float32Array(n);
  for (const s of host.shapes) paint(hu, grid, s);
  if (spec.touching && !host.touchingDone) {
    // a neighbour of similar density (another node, bowel wall, vessel, muscle) touching the lesion
    const t = rng.uniform(0, 2 * Math.PI);
    const dir: Vec3 = [Math.cos(t), Math.sin(t), 0];
    const rn = Math.max(3, shape.radiiMm[1] * shape.scale * rng.uniform(0.5, 1.1));
    const dist = surfaceDistanceMm(lesion, center, dir) + rn - rng.uniform(0.5, 1.5);
    const c: Vec3 = [center[0] + dist * dir[0], center[1] + dist * dir[1], center[2]];
    const tissue = { hu: host.look.hu + rng.uniform(-12, 12), textureHu: host.look.textureHu };
    paint(hu, grid, {
      tissue,
      ...ellipsoid(c, [rn, rn * rng.uniform(1, 1.8), rn * rng.uniform(0.8, 1.5)], t),
    });
  }
  // margins: 40 % sharp, the rest ill-defined over up to 2.5 mm (ground glass: always soft)
  const edgeMm =
    host.look.kind === 'ground-glass' ? rng.uniform(1.5, 3) : rng.next() < 0.4 ? 0 : rng.uniform(0.3, 2.5);
  // the box must hold the whole edge transition: half of (voxel width along the normal + edgeMm)
  const half = geometry.halfExtentMm(growth);
  const m = 1 + (sx + sy + sz + edgeMm) / 2;
  const bbox: [Vec3, Vec3] = [
    [center[0] - half[0] - m, center[1] - half[1] - m, center[2] - half[2] - m],
    [center[0] + half[0] + m, center[1] + half[1] + m, center[2] + half[2] + m],
  ];
  const sdf = cacheSdf(grid, lesion, bbox);
  paint(hu, grid, { sdf, tissue: host.lesionTissue, bboxMm: bbox, edgeMm });
  const mask = new Uint8Array(n);
  rasterize(mask, grid, sdf, bbox);

  // scanner: quantum noise, then the reconstruction kernel's in-plane blur (which correlates the noise)
  const scan = createRng(`scan:${spec.scanSeed}`);
  const noiseSigmaHu = scan.uniform(6, 16);
  const kernelVox = scan.uniform(0.6, 0.85); // reconstruction kernels scale with the pixel grid
  addWhiteNoise(hu, noiseSigmaHu / blurredNoiseStd(kernelVox), scan);
  blurInPlane(hu, size, kernelVox);
  const data = new Int16Array(n);
  let count = 0;
  for (let t = 0; t < n; t++) {
    const v = Math.round(hu[t]);
    data[t] = v < -1024 ? -1024 : v > 3071 ? 3071 : v;
    count += mask[t];
  }
  if (count === 0)
    throw new Recist3dError('E_MASK_EMPTY', 'phantom lesion has no voxel on the grid', {
      lesionId: spec.lesionId,
    });
  const meta = {
    source: 'recist3d synth',
    lesionId: spec.lesionId,
    category: spec.category,
    kind: host.look.kind,
    shape: geometry.file ?? 'procedural',
  };
  const grid0 = () => ({
    size: [...size] as Vec3,
    spacingMm: [...spec.spacingMm] as Vec3,
    origin: [0, 0, 0] as Vec3,
    direction: [...IDENTITY_DIRECTION] as Mat3,
  });
  return {
    image: { ...grid0(), data, meta },
    mask: { ...grid0(), data: mask, meta: { ...meta, role: 'ground-truth mask' } },
    kind: host.look.kind,
    noiseSigmaHu,
    volumeMm3: count * sx * sy * sz,
  };
}
