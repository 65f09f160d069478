import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest } from '../src/io/manifest.js';
import { readNifti } from '../src/io/nifti.js';
import { generateStudy, planCohort } from '../src/synth/cohort.js';
import { SLICE_SPACING_COUNTS } from '../src/synth/deeplesion-stats.js';
import { PHANTOM_CATEGORIES } from '../src/synth/sample.js';
import { writeCohort } from '../src/synth/write.js';
import type { Mask, Vec3 } from '../src/types/volume.js';
import { sharedData, skipReason } from './helpers/shared-data.js';

function sliceAreas(mask: Mask): number[] {
  const [ni, nj, nk] = mask.size;
  const areas = new Array<number>(nk).fill(0);
  for (let k = 0; k < nk; k++) for (let t = 0; t < ni * nj; t++) areas[k] += mask.data[k * ni * nj + t];
  return areas;
}

/** Brute-force longest distance (mm) between two lesion pixels of slice k. */
function longestChordMm(mask: Mask, k: number): number {
  const [ni, nj] = mask.size;
  const [si, sj] = mask.spacingMm;
  const pts: [number, number][] = [];
  for (let j = 0; j < nj; j++)
    for (let i = 0; i < ni; i++) if (mask.data[i + ni * (j + nj * k)]) pts.push([i, j]);
  let best = 0;
  for (let a = 0; a < pts.length; a++)
    for (let b = a + 1; b < pts.length; b++)
      best = Math.max(best, Math.hypot((pts[a][0] - pts[b][0]) * si, (pts[a][1] - pts[b][1]) * sj));
  return best;
}

test('plan: every category present, DeepLesion-like frequencies, exact touching fraction', () => {
  const small = planCohort({ lesions: 10, seed: 3 });
  assert.equal(small.length, 10);
  assert.deepEqual(new Set(small.map((s) => s.category)), new Set(PHANTOM_CATEGORIES));
  const big = planCohort({ lesions: 2000, seed: 4, followUpFraction: 0 });
  const share = (c: string) => big.filter((s) => s.category === c).length / big.length;
  // DL test split: abdomen 23.8 %, lung 22.3 %, bone 2.2 %
  assert.ok(Math.abs(share('abdomen') - 0.238) < 0.01, `abdomen ${share('abdomen')}`);
  assert.ok(Math.abs(share('lung') - 0.223) < 0.01, `lung ${share('lung')}`);
  assert.ok(share('bone') > 0.01 && share('bone') < 0.04, `bone ${share('bone')}`);
  const touching = big.filter((s) => s.touching).length;
  assert.equal(touching, Math.round(0.2 * big.length));
});

test('plan: spacings from the DeepLesion tables, splits by patient, follow-up ids and dates', () => {
  const plan = planCohort({ lesions: 600, seed: 5 });
  const allowedZ = new Set(SLICE_SPACING_COUNTS.map(([mm]) => mm));
  for (const s of plan) {
    assert.ok(s.spec.spacingMm[0] >= 0.6 && s.spec.spacingMm[0] <= 1.0, `in-plane ${s.spec.spacingMm[0]}`);
    assert.equal(s.spec.spacingMm[0], s.spec.spacingMm[1]);
    assert.ok(allowedZ.has(s.spec.spacingMm[2]) && s.spec.spacingMm[2] >= 1 && s.spec.spacingMm[2] <= 5);
  }
  const five = plan.filter((s) => s.spec.spacingMm[2] === 5).length / plan.length;
  const one = plan.filter((s) => s.spec.spacingMm[2] === 1).length / plan.length;
  assert.ok(five > 0.35 && one > 0.3, `5 mm ${five}, 1 mm ${one}`);
  const splitOf = new Map<string, string>();
  for (const s of plan) {
    assert.equal(splitOf.get(s.patientId) ?? s.split, s.split, `patient ${s.patientId} spans splits`);
    splitOf.set(s.patientId, s.split);
  }
  const patients = [...splitOf.values()];
  const frac = (x: string) => patients.filter((p) => p === x).length / patients.length;
  assert.ok(Math.abs(frac('train') - 0.7) < 0.02 && Math.abs(frac('test') - 0.2) < 0.02);
  const t1 = plan.filter((s) => s.timepoint === 1);
  assert.ok(t1.length > 0);
  for (const f of t1) {
    const base = plan.find((s) => s.lesionId === f.lesionId.replace(/_t1$/, '_t0'));
    assert.ok(base, `baseline of ${f.lesionId}`);
    assert.equal(base.patientId, f.patientId);
    assert.ok(f.studyDate > base.studyDate);
    assert.equal(base.spec.anatomySeed, f.spec.anatomySeed);
    assert.notEqual(f.volumeRatio, 1);
  }
});

test('phantoms: RECIST on the largest GT slice, end points inside the mask, reader-style long axis', () => {
  const plan = planCohort({ lesions: 10, seed: 11 });
  for (const s of plan.slice(0, 8)) {
    const c = generateStudy(s);
    assert.equal(c.image.data.constructor, Int16Array);
    assert.equal(c.mask.data.constructor, Uint8Array);
    const areas = sliceAreas(c.mask);
    assert.equal(areas[c.recist.keySlice], Math.max(...areas), `${s.lesionId}: key slice is not the largest`);
    const [ni, nj] = c.mask.size;
    const k = c.recist.keySlice;
    for (const p of [...c.recist.recist.long, ...c.recist.recist.short]) {
      const i = Math.round(p[0]);
      const j = Math.round(p[1]);
      assert.ok(i >= 0 && j >= 0 && i < ni && j < nj, `${s.lesionId}: end point outside the slice`);
    }
    for (const p of c.recist.recist.long) assert.equal(c.mask.data[p[0] + ni * (p[1] + nj * k)], 1);
    assert.ok(Math.abs(c.recist.longMm - longestChordMm(c.mask, k)) < 1e-6, `${s.lesionId}: long axis`);
    assert.ok(c.recist.shortMm <= c.recist.longMm && c.recist.shortMm > 0);
    // the lesion is roughly the size that was asked for
    assert.ok(c.recist.longMm > 0.6 * s.spec.longMm && c.recist.longMm < 1.5 * s.spec.longMm, s.lesionId);
    // CT-like: the lesion is not painted flat (noise and texture), HU stay in the int16 CT range
    let n = 0;
    let sum = 0;
    let sum2 = 0;
    c.image.data.forEach((v, t) => {
      assert.ok(v >= -1024 && v <= 3071);
      if (c.mask.data[t]) {
        n += 1;
        sum += v;
        sum2 += v * v;
      }
    });
    const std = Math.sqrt(sum2 / n - (sum / n) ** 2);
    assert.ok(std > 5, `${s.lesionId}: lesion std ${std.toFixed(1)} HU`);
  }
});

test('follow-up pairs: same grid, mask volume ratio matches the intended ratio', () => {
  const plan = planCohort({ lesions: 12, seed: 21, followUpFraction: 1, minLongMm: 15, maxLongMm: 30 });
  const pairs = plan.filter((s) => s.timepoint === 1);
  assert.ok(pairs.length >= 2);
  for (const f of pairs.slice(0, 2)) {
    const b = plan.find((s) => s.lesionId === f.lesionId.replace(/_t1$/, '_t0'))!;
    const cb = generateStudy(b);
    const cf = generateStudy(f);
    assert.deepEqual(cf.image.size, cb.image.size);
    const ratio = cf.volumeMm3 / cb.volumeMm3;
    assert.ok(
      Math.abs(ratio / f.volumeRatio - 1) < 0.12,
      `${f.lesionId}: mask ratio ${ratio.toFixed(3)} vs intended ${f.volumeRatio.toFixed(3)}`,
    );
    assert.notDeepEqual(cf.image.data, cb.image.data);
  }
});

/** True when a mask voxel lies on one of the six faces of its grid. */
function touchesBorder(mask: Mask): boolean {
  const [ni, nj, nk] = mask.size;
  for (let t = 0; t < mask.data.length; t++) {
    if (!mask.data[t]) continue;
    const i = t % ni;
    const j = Math.floor(t / ni) % nj;
    const k = Math.floor(t / (ni * nj));
    if (i === 0 || j === 0 || k === 0 || i === ni - 1 || j === nj - 1 || k === nk - 1) return true;
  }
  return false;
}

test('uneven follow-up growth: seeded axes, planned volume ratio, changed proportions, lesion inside the crop', () => {
  const opts = { lesions: 16, seed: 21, followUpFraction: 1, minLongMm: 12, maxLongMm: 40 };
  const plan = planCohort(opts);
  const follow = plan.filter((s) => s.timepoint === 1);
  assert.ok(follow.length >= 4);
  assert.deepEqual(
    planCohort(opts).map((s) => s.spec.growthAxes),
    plan.map((s) => s.spec.growthAxes),
  );
  for (const f of follow) {
    const b = plan.find((s) => s.lesionId === f.lesionId.replace(/_t1$/, '_t0'))!;
    const g = f.spec.growthAxes!;
    assert.deepEqual(b.spec.growthAxes, [1, 1, 1]);
    assert.ok(Math.abs(g[0] * g[1] * g[2] - 1) < 1e-12, `${f.lesionId}: axes ${g}`);
    assert.ok(Math.max(...g) / Math.min(...g) > 1.01, `${f.lesionId}: growth is uniform ${g}`);
    // one grid for both studies, large enough along every axis of the larger one
    assert.equal(b.spec.maxScale, f.spec.maxScale);
    assert.ok(f.spec.maxScale >= Math.max(1, f.spec.scale * Math.max(...g)));
  }
  const uniform = planCohort({ ...opts, growthAxisSigma: 0 }).filter((s) => s.timepoint === 1);
  assert.ok(uniform.every((s) => s.spec.growthAxes!.every((x) => x === 1)));
  assert.throws(() => planCohort({ growthAxisSigma: -0.1 }), {
    code: 'E_CONFIG',
    message: /growthAxisSigma/,
  });

  let reshaped = 0;
  for (const f of follow.slice(0, 3)) {
    const b = plan.find((s) => s.lesionId === f.lesionId.replace(/_t1$/, '_t0'))!;
    // 1 mm slices, so voxelisation hardly blurs the volume ratio
    const fine = (s: typeof f) => ({
      ...s,
      spec: { ...s.spec, spacingMm: [s.spec.spacingMm[0], s.spec.spacingMm[1], 1] as Vec3 },
    });
    const cb = generateStudy(fine(b));
    const cf = generateStudy(fine(f));
    assert.deepEqual(cf.mask.size, cb.mask.size);
    const ratio = cf.volumeMm3 / cb.volumeMm3;
    assert.ok(
      Math.abs(ratio / f.volumeRatio - 1) < 0.08,
      `${f.lesionId}: mask ratio ${ratio.toFixed(3)} vs planned ${f.volumeRatio.toFixed(3)}`,
    );
    for (const c of [cb, cf]) assert.ok(!touchesBorder(c.mask), `${c.lesionId} touches the crop border`);
    // same inputs, same voxels
    assert.deepEqual(generateStudy(fine(f)).mask.data, cf.mask.data);
    const aspect = (c: typeof cb) => c.recist.longMm / c.recist.shortMm;
    if (Math.abs(aspect(cf) / aspect(cb) - 1) > 0.05) reshaped++;
    assert.ok(
      cf.recist.shortMm >= 2.5 * f.spec.spacingMm[0] - 1e-9,
      `${f.lesionId}: short axis ${cf.recist.shortMm}`,
    );
  }
  assert.ok(reshaped >= 1, 'no follow-up changed its RECIST long/short ratio by more than 5 %');
  // the planned grids (thick slices included) hold every study
  for (const s of plan.slice(0, 8))
    assert.ok(!touchesBorder(generateStudy(s).mask), `${s.lesionId} touches the crop border`);
});

test('writeCohort: identical bytes for the same seed, a loadable manifest with extra columns', async () => {
  const a = await mkdtemp(join(tmpdir(), 'synth-a-'));
  const b = await mkdtemp(join(tmpdir(), 'synth-b-'));
  const c = await mkdtemp(join(tmpdir(), 'synth-c-'));
  try {
    const opts = { lesions: 3, seed: 9, followUpFraction: 0.5, minLongMm: 6, maxLongMm: 15 };
    await writeCohort(a, opts);
    await writeCohort(b, opts);
    await writeCohort(c, { ...opts, seed: 10 });
    for (const sub of ['images', 'masks']) {
      const files = (await readdir(join(a, sub))).sort();
      assert.equal(files.length, 3);
      for (const f of files) {
        assert.ok(
          (await readFile(join(a, sub, f))).equals(await readFile(join(b, sub, f))),
          `${sub}/${f} differs between two runs with the same seed`,
        );
      }
    }
    assert.equal(
      await readFile(join(a, 'manifest.csv'), 'utf8'),
      await readFile(join(b, 'manifest.csv'), 'utf8'),
    );
    const ma = await readFile(join(a, 'manifest.csv'), 'utf8');
    assert.notEqual(ma, await readFile(join(c, 'manifest.csv'), 'utf8'));
    assert.match(ma.split('\n')[0], /,touching,timepoint,volume_ratio,volume_mm3,/);
    const records = await loadManifest(join(a, 'manifest.csv'));
    assert.equal(records.length, 3);
    for (const r of records) {
      const img = await readNifti(r.imagePath);
      const mask = await readNifti(r.maskPath!);
      assert.deepEqual(img.size, mask.size);
      assert.ok(r.keySlice >= 0 && r.keySlice < img.size[2]);
      assert.ok(r.window && r.window[0] < r.window[1]);
      assert.equal(r.trackId, r.lesionId.replace(/_t\d+$/, ''));
    }
  } finally {
    await Promise.all([a, b, c].map((d) => rm(d, { recursive: true, force: true })));
  }
});

test(
  'shape library: real masks replace procedural shapes, sized to the drawn long axis',
  { skip: sharedData('lesion-shapes') ? false : skipReason('lesion-shapes') },
  () => {
    const dir = sharedData('lesion-shapes')!;
    const plan = planCohort({
      lesions: 8,
      seed: 2,
      followUpFraction: 0,
      shapeLibraryDir: dir,
      shapeLibraryFraction: 1,
    });
    for (const s of plan.slice(0, 3)) {
      assert.ok(s.spec.shapeFile?.startsWith(dir), `${s.lesionId} has no library shape`);
      const c = generateStudy(s);
      assert.equal(c.image.meta.shape, s.spec.shapeFile);
      assert.ok(
        Math.abs(c.recist.longMm / s.spec.longMm - 1) < 0.3,
        `${s.lesionId}: ${c.recist.longMm} vs ${s.spec.longMm}`,
      );
    }
    // the default stays procedural
    assert.ok(planCohort({ lesions: 8, seed: 2 }).every((s) => s.spec.shapeFile === undefined));
  },
);

test('plan: bad options fail with E_CONFIG naming the field', () => {
  assert.throws(() => planCohort({ lesions: 0 }), { code: 'E_CONFIG', message: /lesions/ });
  assert.throws(() => planCohort({ touchingFraction: 1.5 }), {
    code: 'E_CONFIG',
    message: /touchingFraction/,
  });
  assert.throws(() => planCohort({ splitFractions: [0.5, 0.1, 0.1] }), {
    code: 'E_CONFIG',
    message: /splitFractions/,
  });
  assert.throws(() => planCohort({ minLongMm: 30, maxLongMm: 20 }), {
    code: 'E_CONFIG',
    message: /minLongMm/,
  });
});
