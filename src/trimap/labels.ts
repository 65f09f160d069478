/** Trimap labels, equal to OpenCV's GrabCut mask values (GC_BGD, GC_FGD, GC_PR_BGD, GC_PR_FGD). */
export const TRIMAP = { BG: 0, FG: 1, PBG: 2, PFG: 3 } as const;
export type TrimapLabel = (typeof TRIMAP)[keyof typeof TRIMAP];

/** Pixel counts of each label in a trimap. */
export function trimapCounts(trimap: ArrayLike<number>): {
  bg: number;
  fg: number;
  pbg: number;
  pfg: number;
} {
  const c = [0, 0, 0, 0];
  for (let i = 0; i < trimap.length; i++) c[trimap[i]]++;
  return { bg: c[0], fg: c[1], pbg: c[2], pfg: c[3] };
}

/** 1 where the label is FG or PFG (GrabCut's own foreground rule, and the fallback mask). */
export function trimapForeground(trimap: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(trimap.length);
  for (let i = 0; i < trimap.length; i++) out[i] = trimap[i] & 1;
  return out;
}
