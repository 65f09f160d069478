/**
 * How well the CT values tell a lesion from its surroundings, from the RECIST alone: the HU of the inner half of
 * the RECIST ellipse (certainly lesion) against a ring just outside it (1.2 to 1.6 times the ellipse, mostly
 * not lesion), on the key slice. The separability |AUC - 0.5| is 0 when the two are indistinguishable (a
 * sarcoma in muscle, a liver lesion without contrast) and 0.5 when every lesion pixel is brighter or darker than
 * every ring pixel (a nodule in lung).
 */
import type { LesionStack } from '../types/stack.js';
import { coreHuRange, huSlice, keyEllipseOnHuBox } from './hu-exclusion.js';

/** |AUC - 0.5| of core against ring HU on the key slice; NaN when the stack has no HU or either set is empty. */
export function recistContrast(s: LesionStack): number {
  const r = coreAndRing(s);
  return r ? Math.abs(auc(r.core, r.ring) - 0.5) : Number.NaN;
}

/**
 * Share of the ring's pixels whose HU lies within the core's 10th to 90th percentile: how much of the lesion's
 * surroundings looks like the lesion. NaN when the stack has no HU or either set is empty.
 */
export function recistIsodense(s: LesionStack): number {
  const core = coreHuRange(s);
  const r = coreAndRing(s);
  if (!core || !r || !r.ring.length) return Number.NaN;
  const [lo, hi] = core;
  return r.ring.filter((v) => v >= lo && v <= hi).length / r.ring.length;
}

/**
 * HU of the RECIST core (the ellipse scaled by `coreScale`) and of the ring around it on the key slice; `hu`
 * replaces the key slice's HU on the stack's HU box (a smoothed copy, say).
 */
export function coreAndRing(
  s: LesionStack,
  hu: Float32Array | undefined = s.boxHu && huSlice(s, s.record.keySlice),
  coreScale = 0.5,
): { core: number[]; ring: number[] } | undefined {
  if (!s.boxHu || !hu) return undefined;
  const core = keyEllipseOnHuBox(s, coreScale);
  const inner = keyEllipseOnHuBox(s, 1.2);
  const outer = keyEllipseOnHuBox(s, 1.6);
  const pos: number[] = [];
  const neg: number[] = [];
  for (let p = 0; p < hu.length; p++) {
    if (core[p] >= 0.5) pos.push(hu[p]);
    else if (outer[p] >= 0.5 && inner[p] < 0.5) neg.push(hu[p]);
  }
  return { core: pos, ring: neg };
}

/** P(a random `pos` value > a random `neg` value), ties counting half (Mann-Whitney); NaN when either is empty. */
export function auc(pos: readonly number[], neg: readonly number[]): number {
  if (!pos.length || !neg.length) return Number.NaN;
  const all = [...pos.map((v) => [v, 1] as const), ...neg.map((v) => [v, 0] as const)].sort(
    (a, b) => a[0] - b[0],
  );
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const rank = (i + 1 + j) / 2; // mean of ranks i+1..j
    for (let m = i; m < j; m++) if (all[m][1]) rankSum += rank;
    i = j;
  }
  return (rankSum - (pos.length * (pos.length + 1)) / 2) / (pos.length * neg.length);
}
