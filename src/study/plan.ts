/**
 * The order of a reader's study screens: seeded by the study kind and the reader's name, so a reader who comes
 * back sees the same order, and two readers see different ones.
 */
import { createRng, hashSeed } from '../util/random.js';
import type { StudyKind } from './kinds.js';

/** The two masks a study shows: the run's (automatic) and the manifest's `mask` (manual). */
export type Method = 'auto' | 'manual';

export interface PlanLesion {
  lesionId: string;
  /** The run produced a mask for it. */
  hasPrediction: boolean;
  /** The manifest has a manual mask for it. */
  hasTruth: boolean;
}

/** One screen: the lesion and the method of each mask shown (acceptance: one; comparison: left, right). */
export interface PlanItem {
  lesionId: string;
  shown: Method[];
}

/** The seed of a reader's plan (FNV-1a + splitmix32 of "kind:reader"). */
export function planSeed(kind: StudyKind, reader: string): number {
  return hashSeed(`${kind}:${reader}`);
}

/**
 * Acceptance: every automatic mask and every manual mask, shuffled together. Comparison: every lesion that has
 * both, shuffled, each with the two masks in a random left/right order.
 */
export function studyPlan(kind: StudyKind, seed: number, lesions: readonly PlanLesion[]): PlanItem[] {
  const rng = createRng(seed);
  const items: PlanItem[] = [];
  for (const l of lesions) {
    if (kind === 'acceptance') {
      if (l.hasPrediction) items.push({ lesionId: l.lesionId, shown: ['auto'] });
      if (l.hasTruth) items.push({ lesionId: l.lesionId, shown: ['manual'] });
    } else if (l.hasPrediction && l.hasTruth) {
      items.push({ lesionId: l.lesionId, shown: rng.next() < 0.5 ? ['auto', 'manual'] : ['manual', 'auto'] });
    }
  }
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
