/**
 * How ellipsoid-like real lesions are, per kind: for each 3D mask, the reader-style RECIST on its largest
 * axial slice, then the image-free RECIST ellipsoid (the ellipse on the key slice, shrunk with the
 * Pythagorean rule, depth `--z-extent` x L) rasterised on the mask's own grid, and its Dice (3D and on the key
 * slice) against the mask; plus the z extent over L. `--depth` picks how the ellipsoid's depth follows from the
 * RECIST: `L` (the Pythagorean rule, depth = `--z-extent` x L), `sqrtLS` (depth = sqrt(L S)) or `meanLS`
 * (depth = (L + S) / 2), to ask whether the short axis predicts the depth better than the long one.
 *
 *   node --import tsx bench/beyond/shape-stats.ts --dir "$RECIST3D_SHARED_DATA/lesion-shapes" [--max 150]
 *   node --import tsx bench/beyond/shape-stats.ts --masks "$RECIST3D_SHARED_DATA/sts/mask" --name sts
 */
import { parseArgs } from 'node:util';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readMask } from '../../src/io/nifti.js';
import { recistFromMask } from '../../src/recist/from-mask.js';
import { estimateRecist3d } from '../../src/recist/estimate3d.js';
import { computeConfusion, computeOverlap } from '../../src/metrics/overlap.js';
import type { Recist } from '../../src/types/recist.js';

const { values: a } = parseArgs({
  options: {
    dir: { type: 'string' },
    masks: { type: 'string' },
    name: { type: 'string', default: 'masks' },
    max: { type: 'string', default: '150' },
    'z-extent': { type: 'string', default: '1' },
    depth: { type: 'string', default: 'L' },
  },
});
/** The ellipsoid's half-depth as a fraction of L/2, from the RECIST's long and short axes (mm). */
const depthRules: Record<string, (longMm: number, shortMm: number) => number> = {
  L: () => Number(a['z-extent']),
  sqrtLS: (l, s) => Math.sqrt(s / l),
  meanLS: (l, s) => (1 + s / l) / 2,
};
const depthOf = depthRules[a.depth!];
if (!depthOf) throw new Error(`--depth must be one of ${Object.keys(depthRules).join(', ')}, not ${a.depth}`);
const max = Number(a.max);
const groups: [string, string][] = [];
if (a.dir) for (const k of (await readdir(a.dir)).sort()) groups.push([k, join(a.dir, k)]);
if (a.masks) groups.push([a.name!, a.masks]);

/** 1 inside the RECIST ellipse of `r` on an ni x nj slice. */
function ellipseOnSlice(r: Recist, ni: number, nj: number, out: Uint8Array, offset: number): void {
  const [p, q] = r.long;
  const cx = (p[0] + q[0]) / 2;
  const cy = (p[1] + q[1]) / 2;
  const L = Math.hypot(q[0] - p[0], q[1] - p[1]);
  const W = Math.hypot(r.short[1][0] - r.short[0][0], r.short[1][1] - r.short[0][1]);
  const A = Math.max(0.5, L / 2);
  const B = Math.max(0.5, W / 2);
  const ux = L > 0 ? (q[0] - p[0]) / L : 1;
  const uy = L > 0 ? (q[1] - p[1]) / L : 0;
  for (let j = 0; j < nj; j++)
    for (let i = 0; i < ni; i++) {
      const dx = i - cx;
      const dy = j - cy;
      const s = dx * ux + dy * uy;
      const t = -dx * uy + dy * ux;
      if ((s * s) / (A * A) + (t * t) / (B * B) <= 1) out[offset + i + ni * j] = 1;
    }
}

const q = (v: number[], p: number) => {
  const s = [...v].filter(Number.isFinite).sort((x, y) => x - y);
  return s.length ? s[Math.floor((s.length - 1) * p)] : NaN;
};
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
console.log(
  '| kind | n | L mm (median) | z/L median (q1-q3) | ellipsoid 3D Dice mean (median) | key-slice ellipse Dice | ellipsoid precision / recall |',
);
console.log('|---|---|---|---|---|---|---|');
for (const [kind, dir] of groups) {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.nii.gz')).sort();
  const step = Math.max(1, files.length / max);
  const pick: string[] = [];
  for (let x = 0; x < files.length && pick.length < max; x += step) pick.push(files[Math.floor(x)]);
  const d3: number[] = [];
  const dk: number[] = [];
  const zl: number[] = [];
  const Ls: number[] = [];
  const pr: number[] = [];
  const rc: number[] = [];
  for (const f of pick) {
    const m = await readMask(join(dir, f));
    let r;
    try {
      r = recistFromMask(m);
    } catch {
      continue;
    }
    const [ni, nj, nk] = m.size;
    const plane = ni * nj;
    const ell = new Uint8Array(m.data.length);
    const zExtent = depthOf(r.longMm, r.shortMm);
    let first = -1;
    let last = -1;
    for (let k = 0; k < nk; k++) {
      const e = estimateRecist3d(r.recist, r.keySlice, m.spacingMm, k - r.keySlice, zExtent);
      if (e) ellipseOnSlice(e, ni, nj, ell, k * plane);
      if (m.data.subarray(k * plane, (k + 1) * plane).some((v) => v > 0)) {
        if (first < 0) first = k;
        last = k;
      }
    }
    const truth = Uint8Array.from(m.data, (v) => (v ? 1 : 0));
    const o3 = computeOverlap(computeConfusion(ell, truth));
    const ks = r.keySlice * plane;
    const ok = computeOverlap(computeConfusion(ell.subarray(ks, ks + plane), truth.subarray(ks, ks + plane)));
    d3.push(o3.dice);
    dk.push(ok.dice);
    pr.push(o3.precision);
    rc.push(o3.recall);
    Ls.push(r.longMm);
    zl.push(((last - first + 1) * m.spacingMm[2]) / r.longMm);
  }
  console.log(
    `| ${kind} | ${d3.length} | ${q(Ls, 0.5).toFixed(1)} | ${q(zl, 0.5).toFixed(2)} (${q(zl, 0.25).toFixed(2)}-${q(zl, 0.75).toFixed(2)}) | ${mean(d3).toFixed(3)} (${q(d3, 0.5).toFixed(3)}) | ${mean(dk).toFixed(3)} | ${mean(pr).toFixed(3)} / ${mean(rc).toFixed(3)} |`,
  );
}
