import { createRng } from '../util/random.js';
import type { SampleSet } from './dataset.js';
import { resolveOptions } from '../util/options.js';

export interface PatientSplitOptions {
  /** Fraction of patients held out for validation (early stopping). */
  valFraction?: number;
  /** Seed of the patient shuffle. */
  seed?: number;
  /** Never hold out fewer than this many patients when there are at least two. */
  minValPatients?: number;
}

const DEFAULTS = { valFraction: 0.15, seed: 0, minValPatients: 1 } satisfies Required<PatientSplitOptions>;

/**
 * Splits sample indices by patient, so no patient is in both parts. Returns the train and val indices;
 * with a single patient everything is training data and val is empty.
 */
export function splitByPatient(
  set: SampleSet,
  options: PatientSplitOptions = {},
): { train: number[]; val: number[] } {
  const o = resolveOptions(DEFAULTS, options);
  const patients = [...new Set(set.patientIds)].sort();
  const rng = createRng(o.seed);
  for (let i = patients.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [patients[i], patients[j]] = [patients[j], patients[i]];
  }
  const nVal =
    patients.length < 2 ? 0 : Math.max(o.minValPatients, Math.round(patients.length * o.valFraction));
  const valPatients = new Set(patients.slice(0, Math.min(nVal, patients.length - 1)));
  const train: number[] = [];
  const val: number[] = [];
  set.patientIds.forEach((p, i) => (valPatients.has(p) ? val : train).push(i));
  return { train, val };
}
