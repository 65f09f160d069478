/**
 * The JSON shapes `recist3d serve` sends and accepts. The web front end (web/) imports these types too, so the
 * server and the page cannot drift apart.
 */

/** One lesion of the run as the cohort list and the lesion view see it (numbers in mm, mm³ and slices). */
export interface LesionInfo {
  lesionId: string;
  patientId: string;
  studyDate: string;
  category: string;
  split: string;
  /** 'ok' or 'failed' (lesions.csv `status`). */
  status: string;
  error: string;
  volumeMm3: number | null;
  ellipsoidMm3: number | null;
  recistLongMm: number | null;
  recistShortMm: number | null;
  autoLongMm: number | null;
  autoShortMm: number | null;
  sliceFirst: number | null;
  sliceLast: number | null;
  /** Every `qc_*` column of lesions.csv by name without the prefix (0/1 flags, counts). */
  qc: Record<string, number>;
  /** 3D Dice against the manifest's mask, when the run had one. */
  dice3d: number | null;
  diceKey: number | null;
  /** From the manifest: 0-based RECIST slice and end points [x, y] in voxels (long, then short axis). */
  keySlice: number | null;
  recist: { long: [[number, number], [number, number]]; short: [[number, number], [number, number]] } | null;
  /** Manifest window [min, max] HU, when given. */
  window: [number, number] | null;
  hasImage: boolean;
  hasPrediction: boolean;
  hasTruth: boolean;
}

export interface RunInfo {
  runName: string;
  lesions: number;
  failed: number;
  /** Every qc_* flag name found in lesions.csv. */
  qcFlags: string[];
  hasTruth: boolean;
  /** Whether the server has a manifest (images can be shown). */
  hasManifest: boolean;
}

/**
 * The slab of axial slices the server cuts around a lesion: slices k0..k1 (inclusive) of the image, full
 * in-plane size. Masks and the CT slab share this grid.
 */
export interface SlabInfo {
  size: [number, number, number];
  k0: number;
  k1: number;
  spacingMm: [number, number, number];
}

export interface LesionDetail extends LesionInfo {
  slab: SlabInfo;
}

export { STUDY_ANSWERS, STUDY_KINDS } from '../study/kinds.js';
export type { StudyAnswer, StudyKind, StudySession } from '../study/kinds.js';
import type { StudyAnswer, StudySession } from '../study/kinds.js';

/** One screen of a study. The method behind each mask is never sent (the reader is blinded). */
export interface StudyItem {
  position: number;
  total: number;
  lesionId: string;
  category: string;
  keySlice: number;
  recist: NonNullable<LesionInfo['recist']>;
  window: [number, number] | null;
  slab: SlabInfo;
  /** Masks shown: 1 (acceptance) or 2 (comparison: left, right). */
  masks: number;
  /** The reader's earlier answer to this item, when there is one. */
  answer: StudyAnswer | null;
}

export interface AnswerAck {
  ok: true;
  position: number;
  answer: StudyAnswer;
  session: StudySession;
}

/** Every error the server sends: a stable code and a message naming the problem. */
export interface ApiError {
  error: { code: string; message: string };
}
