/**
 * Table 1: every method on the same ROIs, scored against the reference mask on the RECIST slice.
 * Scores are per lesion (2D, slice spacing), then mean ± std (metrics/aggregate.ts).
 */
import { roiMaskToSlice, type Roi } from '../geometry/roi.js';
import { MetricsAccumulator, type MetricsReport } from '../metrics/aggregate.js';
import { computeSegmentationMetrics } from '../metrics/segmentation.js';
import type { Vec3 } from '../types/volume.js';
import { masksForRois, type CohortMaskOptions } from '../pseudo/cohort.js';
import { nativeGrabCut, type GrabCutFn } from '../pseudo/grabcut.js';
import type { MaskMethod } from '../pseudo/methods.js';

export interface ComparisonLesion {
  lesionId: string;
  category: string;
  roi: Roi;
  /** Reference mask on the RECIST slice (ni * nj). */
  truthSlice: Uint8Array;
  /** In-plane spacing [si, sj] in mm. */
  spacingMm: [number, number];
}

export interface MethodComparison {
  method: MaskMethod;
  report: MetricsReport;
  /** Lesions where the method's fallback was used. */
  fallbacks: number;
  /** Mean milliseconds per lesion (ROI to ROI mask, GrabCut batched). */
  msPerLesion: number;
  /** Per-lesion Dice, in input order. */
  dice: number[];
}

export async function compareMethods(
  lesions: readonly ComparisonLesion[],
  methods: readonly MaskMethod[],
  options: CohortMaskOptions = {},
  engine: GrabCutFn = nativeGrabCut,
): Promise<MethodComparison[]> {
  const out: MethodComparison[] = [];
  for (const method of methods) {
    const t0 = performance.now();
    const masks = await masksForRois(
      lesions.map((l) => l.roi),
      { ...options, method },
      engine,
    );
    const ms = (performance.now() - t0) / Math.max(1, lesions.length);
    const acc = new MetricsAccumulator();
    const dice: number[] = [];
    let fallbacks = 0;
    lesions.forEach((l, k) => {
      const pred = roiMaskToSlice(masks[k].mask, l.roi.geometry);
      const [ni, nj] = l.roi.geometry.sliceSize;
      const size: Vec3 = [ni, nj, 1];
      const m = computeSegmentationMetrics(pred, l.truthSlice, { size, spacingMm: [...l.spacingMm, 1] });
      acc.add(l.category, m);
      dice.push(m.dice);
      if (masks[k].fallback) fallbacks++;
    });
    out.push({ method, report: acc.report(), fallbacks, msPerLesion: ms, dice });
  }
  return out;
}
