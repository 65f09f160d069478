/**
 * Host scenes of the abdomen and pelvis: liver with vessels, kidney in perirenal fat, lymph nodes in
 * mesenteric fat among bowel loops, pelvic organs, and soft tissue under the skin.
 */
import type { Vec3 } from '../types/volume.js';
import { lookTissue, sampleLook } from './lesion-look.js';
import { capsule, ellipsoid, type Shape, type Tissue } from './scene.js';
import {
  add,
  fill,
  fromLesion,
  inPlaneDir,
  layers,
  randomDir,
  tissue,
  vessels,
  walledTube,
  type HostContext,
  type HostScene,
} from './host-kit.js';

const FAT = () => tissue(-100, 10);
const MUSCLE = () => tissue(50, 6);

/** Bowel contents: water, air, positive oral contrast or stool. */
function bowelContent(ctx: HostContext): Tissue {
  const u = ctx.rng.next();
  if (u < 0.4) return tissue(ctx.rng.uniform(5, 25), 4);
  if (u < 0.6) return tissue(-950, 10);
  if (u < 0.8) return tissue(ctx.rng.uniform(200, 400), 30);
  return tissue(-150, 120);
}

function bowelLoops(ctx: HostContext, count: number): Shape[] {
  const { rng } = ctx;
  const out: Shape[] = [];
  for (let b = 0; b < count; b++) {
    const r = rng.uniform(6, 14);
    const start = fromLesion(ctx, inPlaneDir(rng), ctx.lesionRadiusMm + r + rng.uniform(0, 40));
    out.push(
      ...walledTube(
        rng,
        start,
        randomDir(rng, 0.6),
        6,
        14,
        r,
        rng.uniform(2, 3.5),
        tissue(55, 6),
        bowelContent(ctx),
        0.6,
      ),
    );
  }
  return out;
}

/** A big vessel along z (aorta, IVC, iliac) at `distMm` from the lesion. */
function axialVessel(ctx: HostContext, rMm: number, distMm: number, hu: number): Shape {
  const c = fromLesion(ctx, inPlaneDir(ctx.rng), distMm + rMm);
  const t = randomDir(ctx.rng, 5);
  const dir: Vec3 = t[2] < 0 ? [-t[0], -t[1], -t[2]] : t;
  return { tissue: tissue(hu, 5), ...capsule(add(c, dir, -300), add(c, dir, 300), rMm, rMm) };
}

export function liverHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const liverHu = rng.uniform(55, 115);
  const look = sampleLook(rng, 'liver', ctx.lesion.radiiMm[1], liverHu);
  const shapes: Shape[] = [fill(tissue(liverHu, 3))];
  const vesselHu = rng.next() < 0.7 ? liverHu + rng.uniform(30, 70) : liverHu - rng.uniform(10, 25);
  shapes.push(...vessels(ctx, 8 + rng.int(10), 5, tissue(vesselHu, 4)));
  if (rng.next() < 0.65) {
    // the liver's edge: fat, then abdominal wall muscle (or the diaphragm and lung)
    const lungSide = rng.next() < 0.3;
    shapes.push(
      ...layers(ctx, inPlaneDir(rng), ctx.lesionRadiusMm + rng.uniform(3, 35), [
        [FAT(), rng.uniform(2, 15)],
        [MUSCLE(), rng.uniform(5, 15)],
        [lungSide ? tissue(-860, 18) : FAT(), 1e6],
      ]),
    );
  }
  if (rng.next() < 0.15) {
    const r = rng.uniform(12, 22);
    const c = fromLesion(ctx, inPlaneDir(rng), ctx.lesionRadiusMm + r + rng.uniform(2, 15));
    shapes.push({
      tissue: tissue(rng.uniform(0, 20), 2),
      ...ellipsoid(c, [r * 1.6, r, r], rng.uniform(0, 3)),
    });
  }
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}

export function kidneyHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'kidney', ctx.lesion.radiiMm[1], 0);
  const shapes: Shape[] = [fill(FAT())];
  // kidney ellipsoid whose surface passes near the lesion centre (exophytic to intraparenchymal)
  const radii: Vec3 = [rng.uniform(45, 60), rng.uniform(25, 32), rng.uniform(45, 60)];
  const angle = rng.uniform(0, Math.PI);
  const dir = inPlaneDir(rng);
  const along = Math.abs(Math.cos(angle) * dir[0] + Math.sin(angle) * dir[1]);
  const radiusAlong = radii[1] + (radii[0] - radii[1]) * along * along;
  const depth = rng.uniform(-0.6, 0.4) * ctx.lesion.radiiMm[1];
  const kc = fromLesion(ctx, dir, radiusAlong + depth);
  const cortexHu = rng.uniform(140, 200);
  shapes.push({
    tissue: tissue(cortexHu, 8),
    ...ellipsoid(kc, radii, angle, { field: ctx.wobble, amplitudeMm: 1 }),
  });
  shapes.push({
    tissue: tissue(-60, 15),
    ...ellipsoid(kc, [radii[0] * 0.5, radii[1] * 0.35, radii[2] * 0.5], angle),
  });
  shapes.push(...vessels(ctx, 2, 3, tissue(rng.uniform(120, 200), 3)));
  if (rng.next() < 0.6) shapes.push(axialVessel(ctx, rng.uniform(8, 12), rng.uniform(20, 50), cortexHu - 20));
  if (rng.next() < 0.6) {
    const c = fromLesion(ctx, inPlaneDir(rng), ctx.lesionRadiusMm + rng.uniform(15, 40));
    shapes.push({
      tissue: MUSCLE(),
      ...ellipsoid(c, [rng.uniform(15, 25), rng.uniform(12, 20), 300], rng.uniform(0, 3)),
    });
  }
  shapes.push(...bowelLoops(ctx, rng.int(2)));
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}

export function abdomenHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'abdomen', ctx.lesion.radiiMm[1], 0);
  const shapes: Shape[] = [fill(FAT())];
  shapes.push(...vessels(ctx, 4 + rng.int(6), 2.5, tissue(rng.uniform(120, 200), 4)));
  shapes.push(...bowelLoops(ctx, 2 + rng.int(4)));
  if (rng.next() < 0.6)
    shapes.push(axialVessel(ctx, rng.uniform(8, 13), rng.uniform(3, 25), rng.uniform(130, 220)));
  if (rng.next() < 0.4) {
    const c = fromLesion(ctx, inPlaneDir(rng), ctx.lesionRadiusMm + rng.uniform(15, 35));
    shapes.push({
      tissue: MUSCLE(),
      ...ellipsoid(c, [rng.uniform(15, 25), rng.uniform(12, 20), 300], rng.uniform(0, 3)),
    });
  }
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}

export function pelvisHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'pelvis', ctx.lesion.radiiMm[1], 0);
  const shapes: Shape[] = [fill(FAT())];
  const r = ctx.lesionRadiusMm;
  if (rng.next() < 0.5) {
    const rb = rng.uniform(25, 45);
    const c = fromLesion(ctx, inPlaneDir(rng), r + rb + rng.uniform(2, 20));
    shapes.push({ tissue: tissue(45, 5), ...ellipsoid(c, [rb * 1.2, rb, rb * 0.8], rng.uniform(0, 3)) });
    shapes.push({
      tissue: tissue(rng.uniform(0, 15), 2),
      ...ellipsoid(c, [rb * 1.2 - 3, rb - 3, rb * 0.8 - 3], rng.uniform(0, 3)),
    });
  }
  for (let v = 1 + rng.int(3); v > 0; v--)
    shapes.push(axialVessel(ctx, rng.uniform(4, 8), r + rng.uniform(2, 30), rng.uniform(120, 200)));
  for (let m = 1 + rng.int(2); m > 0; m--) {
    const c = fromLesion(ctx, inPlaneDir(rng), r + rng.uniform(15, 40));
    shapes.push({
      tissue: MUSCLE(),
      ...ellipsoid(c, [rng.uniform(12, 25), rng.uniform(8, 15), 300], rng.uniform(0, 3)),
    });
  }
  if (rng.next() < 0.5) {
    const rb = rng.uniform(15, 30);
    const c = fromLesion(ctx, inPlaneDir(rng), r + rb + rng.uniform(10, 30));
    shapes.push({
      tissue: tissue(rng.uniform(700, 1000), 40),
      ...ellipsoid(c, [rb * 1.8, rb, 300], rng.uniform(0, 3)),
    });
    shapes.push({
      tissue: tissue(rng.uniform(150, 300), 40),
      ...ellipsoid(c, [rb * 1.8 - 2, rb - 2, 300], rng.uniform(0, 3)),
    });
  }
  shapes.push(...bowelLoops(ctx, rng.int(3)));
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}

export function softTissueHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'soft_tissue', ctx.lesion.radiiMm[1], 0);
  const r = ctx.lesionRadiusMm;
  const inMuscle = rng.next() < 0.4;
  const shapes: Shape[] = [fill(inMuscle ? MUSCLE() : FAT())];
  const dir = inPlaneDir(rng);
  shapes.push(
    ...layers(
      ctx,
      dir,
      r + rng.uniform(3, 25),
      inMuscle
        ? [
            [FAT(), rng.uniform(8, 25)],
            [tissue(40, 5), 2],
            [tissue(-1000, 5), 1e6],
          ]
        : [
            [tissue(40, 5), 2],
            [tissue(-1000, 5), 1e6],
          ],
    ),
  );
  const back: Vec3 = [-dir[0], -dir[1], 0];
  if (!inMuscle) shapes.push(...layers(ctx, back, r + rng.uniform(3, 25), [[MUSCLE(), 1e6]]));
  shapes.push(...vessels(ctx, 2 + rng.int(4), 2, tissue(rng.uniform(100, 180), 4)));
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}
