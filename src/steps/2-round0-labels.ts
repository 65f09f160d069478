/**
 * Step 2 of WSSS (paper section 3.1; Algorithm 1, line 2): the round-0 training labels on the RECIST slice of
 * every lesion. 'grabcut-r' runs GrabCut on the RECIST trimap (GrabCut-R); 'recist' uses the trimap itself with
 * its uncertain regions ignored (weight 0); 'full' uses the ground truth (`truthKey` gives it per lesion).
 */
import { masksForRois } from '../pseudo/cohort.js';
import { nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import { PSEUDO_MASK_DEFAULTS } from '../pseudo/methods.js';
import { TRIMAP } from '../trimap/labels.js';
import { trimapFromRecist } from '../trimap/recist-trimap.js';
import type { HarvestedLabel } from '../types/label.js';
import type { LesionStack } from '../types/stack.js';
import { resolveOptions } from '../util/options.js';

/** Where the round-0 labels come from. */
export type InitialLabels = 'grabcut-r' | 'recist' | 'full';

export interface Round0LabelOptions {
  /** GrabCut iterations. */
  iterations?: number;
  /** ROIs per native GrabCut call (does not change the labels). */
  batchSize?: number;
}

export const ROUND0_LABEL_DEFAULTS = {
  iterations: PSEUDO_MASK_DEFAULTS.iterations,
  batchSize: 64,
} satisfies Required<Round0LabelOptions>;

const ones = (n: number) => new Uint8Array(n).fill(1);

/** The round-0 label of every stack's key slice (lesions without truth are left out under 'full'). */
export async function initialLabels(
  stacks: readonly LesionStack[],
  kind: InitialLabels,
  truthKey: (s: LesionStack) => Uint8Array | undefined,
  options: Round0LabelOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<HarvestedLabel[]> {
  const o = resolveOptions(ROUND0_LABEL_DEFAULTS, options);
  const base = (s: LesionStack) => ({ lesionId: s.record.lesionId, k: s.record.keySlice, offset: 0 });
  if (kind === 'grabcut-r') {
    const res = await masksForRois(
      stacks.map((s) => s.keyRoi),
      { method: 'grabcut-r', iterations: o.iterations, batchSize: o.batchSize },
      engine,
    );
    return stacks.map((s, i) => ({
      ...base(s),
      source: res[i].fallback ? 'grabcut-fallback' : 'grabcut',
      y: res[i].mask,
      w: ones(res[i].mask.length),
    }));
  }
  if (kind === 'recist') return stacks.map((s) => ({ ...base(s), ...recistTrimapLabel(s) }));
  return stacks.flatMap((s) => {
    const y = truthKey(s);
    return y ? [{ ...base(s), source: 'truth' as const, y, w: ones(y.length) }] : [];
  });
}

/** The RECIST trimap as a label: FG = 1, BG = 0, the uncertain regions weighted 0. */
function recistTrimapLabel(s: LesionStack): Pick<HarvestedLabel, 'source' | 'y' | 'w'> {
  const n = s.keyRoi.geometry.sizePx;
  const t = trimapFromRecist(s.keyRoi.recist, n);
  const y = new Uint8Array(n * n);
  const w = new Uint8Array(n * n);
  for (let p = 0; p < n * n; p++) {
    if (t[p] === TRIMAP.FG) y[p] = w[p] = 1;
    else if (t[p] === TRIMAP.BG) w[p] = 1;
  }
  return { source: 'recist-trimap', y, w };
}
