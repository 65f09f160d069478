/**
 * Host scenes of the chest: lung parenchyma with vessels and bronchi, mediastinal fat with great
 * vessels, and bone (vertebral body or rib) in muscle, fat and lung.
 */
import type { Vec3 } from '../types/volume.js';
import { lookTissue, sampleLook } from './lesion-look.js';
import { capsule, ellipsoid, halfSpace, type Shape } from './scene.js';
import { grownRadiiMm } from './shape.js';
import {
  add,
  fill,
  fromLesion,
  inPlaneDir,
  layers,
  randomPoint,
  randomDir,
  tissue,
  vessels,
  walledTube,
  type HostContext,
  type HostScene,
} from './host-kit.js';

const FAT = () => tissue(-95, 10);
const MUSCLE = () => tissue(50, 6);
const LUNG = () => tissue(-860, 18);

/** Chest wall beyond distance `distMm` along `dir`: pleura/intercostal muscle, fat, muscle. */
function chestWall(ctx: HostContext, dir: Vec3, distMm: number): Shape[] {
  const { rng } = ctx;
  return layers(ctx, dir, distMm, [
    [tissue(45, 6), rng.uniform(2, 6)],
    [FAT(), rng.uniform(3, 12)],
    [MUSCLE(), rng.uniform(8, 20)],
    [FAT(), 1e6],
  ]);
}

export function lungHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'lung', ctx.lesion.radiiMm[1], 0);
  const shapes: Shape[] = [fill(LUNG())];
  const vesselHu = rng.uniform(20, 60);
  // about one vessel segment chain per 15 cm^3 of lung, mostly thin
  const lungCm3 = (ctx.fovMm[0] * ctx.fovMm[1] * ctx.fovMm[2]) / 1000;
  shapes.push(...vessels(ctx, Math.round(lungCm3 / 15) + 10 + rng.int(10), 4, tissue(vesselHu, 5)));
  for (let b = rng.int(3); b > 0; b--) {
    const r = rng.uniform(1.5, 4);
    shapes.push(
      ...walledTube(rng, randomPoint(ctx), randomDir(rng), 5, 12, r, 1, tissue(-50, 10), tissue(-960, 5)),
    );
  }
  let touchingDone = false;
  if (ctx.touching && rng.next() < 0.6) {
    // juxtapleural nodule: the chest wall touches the lesion surface
    shapes.push(...chestWall(ctx, inPlaneDir(rng), grownRadiiMm(ctx.lesion)[1] * 0.9));
    touchingDone = true;
  } else if (rng.next() < 0.5) {
    shapes.push(...chestWall(ctx, inPlaneDir(rng), ctx.lesionRadiusMm + rng.uniform(4, 35)));
  }
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture), touchingDone };
}

export function mediastinumHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'mediastinum', ctx.lesion.radiiMm[1], 0);
  const shapes: Shape[] = [fill(FAT())];
  const blood = rng.uniform(130, 260);
  const r = ctx.lesionRadiusMm;
  // great vessels running roughly along z, near the node
  for (let v = 1 + rng.int(3); v > 0; v--) {
    const rv = v === 1 ? rng.uniform(10, 16) : rng.uniform(5, 10);
    const c = fromLesion(ctx, inPlaneDir(rng), r + rv + rng.uniform(2, 20));
    const tilt = randomDir(rng, 6);
    const dir: Vec3 = tilt[2] < 0 ? [-tilt[0], -tilt[1], -tilt[2]] : tilt;
    shapes.push({
      tissue: tissue(blood + rng.uniform(-30, 30), 5),
      ...capsule(add(c, dir, -200), add(c, dir, 200), rv, rv),
    });
  }
  // lung on one or two sides, other small nodes
  for (let s = 1 + rng.int(2); s > 0; s--) {
    const dir = inPlaneDir(rng);
    const p = fromLesion(ctx, dir, r + rng.uniform(10, 45));
    shapes.push({
      tissue: LUNG(),
      ...halfSpace(p, [-dir[0], -dir[1], -dir[2]], { field: ctx.wobble, amplitudeMm: 4 }),
    });
  }
  for (let n = rng.int(4); n > 0; n--) {
    const c = randomPoint(ctx);
    const rr = rng.uniform(2, 5);
    shapes.push({
      tissue: tissue(look.hu + rng.uniform(-10, 10), 5),
      ...ellipsoid(c, [rr * 1.4, rr, rr], rng.uniform(0, 3)),
    });
  }
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}

export function boneHost(ctx: HostContext): HostScene {
  const { rng } = ctx;
  const look = sampleLook(rng, 'bone', ctx.lesion.radiiMm[1], 0);
  const shapes: Shape[] = [fill(MUSCLE())];
  const r = ctx.lesionRadiusMm;
  const cortex = tissue(rng.uniform(700, 1100), 40);
  const marrow = tissue(rng.uniform(180, 320), 45);
  const c = ctx.lesion.centerMm;
  if (rng.next() < 0.5) {
    // vertebral body: a cylinder along z around the lesion, paraspinal muscle behind, fat and lung aside
    const rb = Math.max(14, r * 0.9) + rng.uniform(0, 6);
    const toBody = inPlaneDir(rng);
    const off = fromLesion(ctx, toBody, rng.uniform(0, rb * 0.4));
    const dir = randomDir(rng, 8);
    const axis: Vec3 = dir[2] < 0 ? [-dir[0], -dir[1], -dir[2]] : dir;
    const side: Vec3 = [-toBody[1], toBody[0], 0];
    for (const s of [1, -1]) {
      const aside: Vec3 = [s * side[0], s * side[1], 0];
      shapes.push(
        ...layers(ctx, aside, rb + rng.uniform(4, 12), [
          [FAT(), rng.uniform(2, 6)],
          [LUNG(), 1e6],
        ]),
      );
    }
    shapes.push(...layers(ctx, toBody, rb + rng.uniform(10, 30), [[FAT(), 1e6]]));
    shapes.push({ tissue: cortex, ...capsule(add(off, axis, -300), add(off, axis, 300), rb, rb) });
    shapes.push({
      tissue: marrow,
      ...capsule(add(off, axis, -300), add(off, axis, 300), rb - 1.5, rb - 1.5),
    });
  } else {
    // rib: a tube crossing the slice obliquely through the lesion, lung on the inner side
    const rr = rng.uniform(4, 7);
    const dir = randomDir(rng, 0.5);
    shapes.push(...layers(ctx, inPlaneDir(rng), r + rng.uniform(5, 20), [[FAT(), 1e6]]));
    shapes.push({
      tissue: LUNG(),
      ...halfSpace(c, inPlaneDir(rng), { field: ctx.wobble, amplitudeMm: 3 }),
    });
    shapes.push({ tissue: cortex, ...capsule(add(c, dir, -150), add(c, dir, 150), rr, rr) });
    shapes.push({ tissue: marrow, ...capsule(add(c, dir, -150), add(c, dir, 150), rr - 1.2, rr - 1.2) });
  }
  return { shapes, look, lesionTissue: lookTissue(look, ctx.grid.texture) };
}
