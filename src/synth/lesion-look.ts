/**
 * Lesion interiors: base density per category and kind (cyst, hypo/hyperdense metastasis, lytic or
 * sclerotic bone, ground glass...), with rim enhancement and an irregular necrotic or cavitated core.
 */
import type { Rng } from '../util/random.js';
import type { Tissue } from './scene.js';
import type { PhantomCategory } from './sample.js';

export interface LesionLook {
  /** Short name of the lesion kind, recorded in the volume metadata. */
  kind: string;
  hu: number;
  textureHu: number;
  /** Extra HU at the lesion surface, fading inward over `rimMm`. */
  rimHu: number;
  rimMm: number;
  /** Depth (mm) below the surface where the necrotic core starts (Infinity = none). */
  coreDepthMm: number;
  coreHu: number;
}

/**
 * Draws a look for a lesion of `category` with semi-minor radius `radiusMm`, in an organ of
 * density `organHu` (liver parenchyma for liver lesions).
 */
export function sampleLook(
  rng: Rng,
  category: PhantomCategory,
  radiusMm: number,
  organHu: number,
): LesionLook {
  const u = rng.next();
  const big = radiusMm > 8;
  const core = (p: number, hu: number, frac = rng.uniform(0.3, 0.6)) =>
    big && rng.next() < p
      ? { coreDepthMm: radiusMm * frac, coreHu: hu }
      : { coreDepthMm: Infinity, coreHu: 0 };
  const none = { rimHu: 0, rimMm: 1 };
  switch (category) {
    case 'liver':
      if (u < 0.2) return { kind: 'cyst', hu: rng.uniform(0, 15), textureHu: 2, ...none, ...core(0, 0) };
      if (u < 0.65)
        return {
          kind: 'hypodense',
          hu: organHu - rng.uniform(35, 65),
          textureHu: 6,
          rimHu: rng.next() < 0.5 ? rng.uniform(15, 35) : 0,
          rimMm: rng.uniform(1.5, 3),
          ...core(0.5, rng.uniform(5, 25)),
        };
      if (u < 0.8)
        return { kind: 'subtle', hu: organHu - rng.uniform(12, 25), textureHu: 5, ...none, ...core(0, 0) };
      return {
        kind: 'hyperdense',
        hu: organHu + rng.uniform(25, 60),
        textureHu: 10,
        rimHu: 0,
        rimMm: 1,
        ...core(0.3, organHu - 20),
      };
    case 'lung':
      if (u < 0.1)
        return { kind: 'ground-glass', hu: rng.uniform(-650, -400), textureHu: 40, ...none, ...core(0, 0) };
      return {
        kind: 'solid',
        hu: rng.uniform(10, 50),
        textureHu: 8,
        ...none,
        ...core(0.2, rng.uniform(-950, -850), rng.uniform(0.4, 0.7)),
      };
    case 'kidney':
      if (u < 0.5) return { kind: 'cyst', hu: rng.uniform(0, 20), textureHu: 2, ...none, ...core(0, 0) };
      return {
        kind: 'solid',
        hu: rng.uniform(70, 130),
        textureHu: 16,
        ...none,
        ...core(0.4, rng.uniform(10, 30)),
      };
    case 'bone':
      if (u < 0.6) return { kind: 'lytic', hu: rng.uniform(20, 70), textureHu: 8, ...none, ...core(0, 0) };
      if (u < 0.85)
        return { kind: 'sclerotic', hu: rng.uniform(450, 900), textureHu: 60, ...none, ...core(0, 0) };
      return { kind: 'mixed', hu: rng.uniform(200, 350), textureHu: 120, ...none, ...core(0, 0) };
    default:
      // lymph nodes and soft-tissue masses (mediastinum, abdomen, pelvis, soft_tissue)
      return {
        kind: 'soft-tissue',
        hu: rng.uniform(25, 60),
        textureHu: 6,
        rimHu: rng.next() < 0.2 ? rng.uniform(10, 25) : 0,
        rimMm: 2,
        ...core(0.25, rng.uniform(5, 20)),
      };
  }
}

/** The Tissue that paints a look; `field` is a smooth unit noise used to make the core irregular. */
export function lookTissue(look: LesionLook, field: Float32Array): Tissue {
  const { rimHu, rimMm, coreDepthMm, coreHu, hu } = look;
  const hasCore = Number.isFinite(coreDepthMm);
  return {
    hu,
    textureHu: look.textureHu,
    profile:
      rimHu === 0 && !hasCore
        ? undefined
        : (d, idx) => {
            const depth = -d;
            let v = rimHu !== 0 && depth > 0 ? rimHu * Math.exp(-depth / rimMm) : 0;
            if (hasCore) {
              const t = (depth - coreDepthMm * (1 + 0.35 * field[idx])) / 2;
              if (t > 0) v += (coreHu - hu) * (t >= 1 ? 1 : t * t * (3 - 2 * t));
            }
            return v;
          },
  };
}
