/**
 * Follow-up (paper Figure 7): lesions are paired across the studies of a patient, and each pair's volume
 * change from the 3D masks is compared with the change implied by the RECIST ellipsoid and, when ground-truth
 * masks exist, with the true change (R^2 = squared Pearson correlation against the truth).
 *
 * Pairing: by `patient_id` and the lesion's `track_id`, or, when the manifest has none, by the lesion id with a
 * trailing `_t<n>` removed; studies are ordered by `study_date` and each follow-up is compared with the first.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Recist3dError } from '../errors.js';
import { readMask, readNiftiHeader } from '../io/nifti.js';
import { segmentLengthMm } from '../recist/parse.js';
import { ellipsoidVolumeMm3 } from '../recist/validate.js';
import type { LesionRecord } from '../types/recist.js';
import { maskFileName } from '../io/mask-files.js';

export interface TrackPair {
  patientId: string;
  track: string;
  baseline: string;
  followUp: string;
  dates: [string, string];
  /** Volumes in mm^3 at baseline and follow-up. */
  predicted: [number, number];
  ellipsoid: [number, number];
  truth?: [number, number] | undefined;
}

export interface TrackResult {
  pairs: TrackPair[];
  /** Lesions that could not be paired (single study, no patient id or study date). */
  unpaired: string[];
  /** Squared Pearson correlation of relative volume changes against the truth (NaN without truth). */
  r2Predicted: number;
  r2Ellipsoid: number;
}

/** Relative volume change (V1 - V0) / V0. */
export const relativeChange = ([v0, v1]: [number, number]): number => (v1 - v0) / v0;

export function trackKey(r: LesionRecord): string {
  return r.trackId ?? r.lesionId.replace(/_t\d+$/, '');
}

export function pearsonR2(x: number[], y: number[]): number {
  const n = x.length;
  if (n < 2) return Number.NaN;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? (sxy * sxy) / (sxx * syy) : Number.NaN;
}

async function maskVolumeMm3(path: string): Promise<number> {
  const m = await readMask(path);
  let n = 0;
  for (let i = 0; i < m.data.length; i++) n += m.data[i];
  return n * m.spacingMm[0] * m.spacingMm[1] * m.spacingMm[2];
}

/** Finds the predicted mask of a lesion in `predDir` or `predDir/masks`. */
export function predictedMaskPath(predDir: string, lesionId: string): string {
  const name = maskFileName(lesionId);
  for (const p of [join(predDir, 'masks', name), join(predDir, name)]) if (existsSync(p)) return p;
  throw new Recist3dError('E_FILE_NOT_FOUND', `No predicted mask ${name} in ${predDir} or ${predDir}/masks`, {
    lesionId,
  });
}

export async function trackCohort(records: readonly LesionRecord[], predDir: string): Promise<TrackResult> {
  const groups = new Map<string, LesionRecord[]>();
  const unpaired: string[] = [];
  for (const r of records) {
    if (!r.patientId || !r.studyDate) {
      unpaired.push(r.lesionId);
      continue;
    }
    const key = `${r.patientId}\u0000${trackKey(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const pairs: TrackPair[] = [];
  const ellipsoid = async (r: LesionRecord) => {
    const h = await readNiftiHeader(r.imagePath);
    return ellipsoidVolumeMm3(
      segmentLengthMm(r.recist.long[0], r.recist.long[1], h.spacingMm),
      segmentLengthMm(r.recist.short[0], r.recist.short[1], h.spacingMm),
    );
  };
  for (const group of groups.values()) {
    if (group.length < 2) {
      unpaired.push(...group.map((r) => r.lesionId));
      continue;
    }
    group.sort((a, b) => (a.studyDate! < b.studyDate! ? -1 : a.studyDate! > b.studyDate! ? 1 : 0));
    const base = group[0];
    const v0 = await maskVolumeMm3(predictedMaskPath(predDir, base.lesionId));
    const e0 = await ellipsoid(base);
    const t0 = base.maskPath ? await maskVolumeMm3(base.maskPath) : undefined;
    for (const f of group.slice(1)) {
      const t1 = f.maskPath && t0 !== undefined ? await maskVolumeMm3(f.maskPath) : undefined;
      pairs.push({
        patientId: base.patientId!,
        track: trackKey(base),
        baseline: base.lesionId,
        followUp: f.lesionId,
        dates: [base.studyDate!, f.studyDate!],
        predicted: [v0, await maskVolumeMm3(predictedMaskPath(predDir, f.lesionId))],
        ellipsoid: [e0, await ellipsoid(f)],
        truth: t0 !== undefined && t1 !== undefined ? [t0, t1] : undefined,
      });
    }
  }
  const withTruth = pairs.filter((p) => p.truth);
  const truth = withTruth.map((p) => relativeChange(p.truth!));
  return {
    pairs,
    unpaired,
    r2Predicted: pearsonR2(
      withTruth.map((p) => relativeChange(p.predicted)),
      truth,
    ),
    r2Ellipsoid: pearsonR2(
      withTruth.map((p) => relativeChange(p.ellipsoid)),
      truth,
    ),
  };
}
