/** The two reader studies, their answers, and a reader's place in one (shared with the web page). */
export type StudyKind = 'acceptance' | 'comparison';
export const STUDY_KINDS: readonly StudyKind[] = ['acceptance', 'comparison'];

export const STUDY_ANSWERS = {
  acceptance: ['accept', 'reject'],
  comparison: ['left', 'right', 'both', 'neither'],
} as const satisfies Record<StudyKind, readonly string[]>;
export type StudyAnswer = (typeof STUDY_ANSWERS)[StudyKind][number];

/** A reader's place in one study. */
export interface StudySession {
  reader: string;
  kind: StudyKind;
  total: number;
  /** First unanswered position (0-based), = total when every item is answered. */
  position: number;
  answered: number;
}
