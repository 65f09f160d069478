/**
 * Quality control of a mask against its RECIST: the mask's own reader-style RECIST (auto-RECIST, measured on
 * its largest slice) should agree with the radiologist's within reader variability. A lesion whose long or
 * short axis differs by more than the tolerance is flagged, so a user sees which masks to look at first.
 */
import { resolveOptions } from '../util/options.js';

export interface RecistQcOptions {
  /** Allowed relative difference of each axis (auto against given). */
  relTolerance?: number;
  /** Differences up to this many mm always pass (a pixel or two on a small nodule). */
  minToleranceMm?: number;
}

export const RECIST_QC_DEFAULTS = {
  relTolerance: 0.3,
  minToleranceMm: 3,
} satisfies Required<RecistQcOptions>;

/**
 * Whether the mask's auto-RECIST disagrees with the given RECIST beyond the tolerance, on either axis. A mask
 * without a measurable auto-RECIST (empty, or one pixel wide) disagrees.
 */
export function recistMismatch(
  given: { longMm: number; shortMm: number },
  auto: { longMm: number; shortMm: number },
  options: RecistQcOptions = {},
): boolean {
  const o = resolveOptions(RECIST_QC_DEFAULTS, options);
  const off = (g: number, a: number) =>
    !Number.isFinite(a) || Math.abs(a - g) > Math.max(o.relTolerance * g, o.minToleranceMm);
  return off(given.longMm, auto.longMm) || off(given.shortMm, auto.shortMm);
}
