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
import { maskFileName } from '../io/mask-file-name.js';
import { asLesionError } from '../errors.js';
import { segmentLengthMm } from '../recist/parse.js';
import { ellipsoidVolumeMm3 } from '../recist/validate.js';
import type { LesionRecord } from '../types/recist.js';

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

/** A pair whose volumes could not be measured (missing or unreadable mask, unreadable image). */
export interface FailedPair {
  patientId: string;
  track: string;
  baseline: string;
  followUp: string;
  dates: [string, string];
  code: string;
  message: string;
}

export interface TrackResult {
  pairs: TrackPair[];
  /** Pairs that failed; the others are measured all the same. */
  failed: FailedPair[];
  /** Lesions that could not be paired (single study, no patient id or study date). */
  unpaired: string[];
  /** Why lesions are unpaired: how many lack patient_id, lack study_date, or have one study only. */
  unpairedBecause: { noPatientId: number; noStudyDate: number; singleStudy: number };
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
  const { groups, unpaired, unpairedBecause } = groupTracks(records);
  const pairs: TrackPair[] = [];
  const failed: FailedPair[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) {
      unpaired.push(...group.map((r) => r.lesionId));
      unpairedBecause.singleStudy += group.length;
      continue;
    }
    const track = await trackPairs(group, predDir);
    pairs.push(...track.pairs);
    failed.push(...track.failed);
  }
  const withTruth = pairs.filter((p) => p.truth);
  const truth = withTruth.map((p) => relativeChange(p.truth!));
  return {
    pairs,
    failed,
    unpaired,
    unpairedBecause,
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

/** The lesions grouped by patient and track; lesions without a patient id or a study date stay unpaired. */
function groupTracks(records: readonly LesionRecord[]) {
  const groups = new Map<string, LesionRecord[]>();
  const unpaired: string[] = [];
  const unpairedBecause = { noPatientId: 0, noStudyDate: 0, singleStudy: 0 };
  for (const r of records) {
    if (!r.patientId || !r.studyDate) {
      unpaired.push(r.lesionId);
      if (!r.patientId) unpairedBecause.noPatientId++;
      if (!r.studyDate) unpairedBecause.noStudyDate++;
      continue;
    }
    const key = `${r.patientId}\u0000${trackKey(r)}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return { groups, unpaired, unpairedBecause };
}

/** The pairs (first study, each later one) of one track; a bad baseline fails every pair, a bad follow-up its own. */
async function trackPairs(
  group: LesionRecord[],
  predDir: string,
): Promise<{ pairs: TrackPair[]; failed: FailedPair[] }> {
  const pairs: TrackPair[] = [];
  const failed: FailedPair[] = [];
  group.sort((a, b) => (a.studyDate! < b.studyDate! ? -1 : a.studyDate! > b.studyDate! ? 1 : 0));
  const base = group[0];
  const v0 = await lesionVolumes(base, predDir, true).catch((e: Recist3dError) => e);
  for (const f of group.slice(1)) {
    const ids = {
      patientId: base.patientId!,
      track: trackKey(base),
      baseline: base.lesionId,
      followUp: f.lesionId,
      dates: [base.studyDate!, f.studyDate!] as [string, string],
    };
    const v1 =
      v0 instanceof Error
        ? v0
        : await lesionVolumes(f, predDir, v0.truth !== undefined).catch((e: Recist3dError) => e);
    if (v0 instanceof Error || v1 instanceof Error) {
      const e = v0 instanceof Error ? v0 : (v1 as Recist3dError);
      failed.push({ ...ids, code: e.code, message: e.message });
      continue;
    }
    pairs.push({
      ...ids,
      predicted: [v0.predicted, v1.predicted],
      ellipsoid: [v0.ellipsoid, v1.ellipsoid],
      truth: v0.truth !== undefined && v1.truth !== undefined ? [v0.truth, v1.truth] : undefined,
    });
  }
  return { pairs, failed };
}

/** A lesion's predicted, RECIST-ellipsoid and (when `withTruth`) true volume; throws naming the lesion. */
async function lesionVolumes(r: LesionRecord, predDir: string, withTruth: boolean) {
  try {
    const predicted = await maskVolumeMm3(predictedMaskPath(predDir, r.lesionId));
    const h = await readNiftiHeader(r.imagePath);
    const ellipsoid = ellipsoidVolumeMm3(
      segmentLengthMm(r.recist.long[0], r.recist.long[1], h.spacingMm),
      segmentLengthMm(r.recist.short[0], r.recist.short[1], h.spacingMm),
    );
    return {
      predicted,
      ellipsoid,
      truth: withTruth && r.maskPath ? await maskVolumeMm3(r.maskPath) : undefined,
    };
  } catch (e) {
    throw asLesionError(e, r);
  }
}
