import { Recist3dError } from '../errors.js';

/**
 * A set of 2D training samples: `n` images of `channels` x `size` x `size` (float, windowed to [0, 1]),
 * targets in [0, 1] and per-pixel weights (0 = ignore), plus who each sample belongs to.
 */
export interface SampleSet {
  n: number;
  channels: number;
  size: number;
  x: Float32Array;
  y: Float32Array;
  w: Float32Array;
  lesionIds: string[];
  patientIds: string[];
  /** Slice offset from the key slice (0 = RECIST slice). */
  offsets: number[];
}

export interface Sample {
  x: Float32Array;
  y: Float32Array;
  w?: Float32Array;
  lesionId: string;
  patientId: string;
  offset: number;
}

/** Packs samples of identical shape into one contiguous SampleSet. */
export function packSamples(samples: Sample[], channels: number, size: number): SampleSet {
  const px = size * size;
  const n = samples.length;
  const x = new Float32Array(n * channels * px);
  const y = new Float32Array(n * px);
  const w = new Float32Array(n * px);
  samples.forEach((s, i) => {
    if (s.x.length !== channels * px || s.y.length !== px || (s.w && s.w.length !== px)) {
      throw new Recist3dError(
        'E_NATIVE_SHAPE',
        `Sample ${i} has x ${s.x.length}, y ${s.y.length} values; expected ${channels * px} and ${px}`,
        { lesionId: s.lesionId },
      );
    }
    x.set(s.x, i * channels * px);
    y.set(s.y, i * px);
    if (s.w) w.set(s.w, i * px);
    else w.fill(1, i * px, (i + 1) * px);
  });
  return {
    n,
    channels,
    size,
    x,
    y,
    w,
    lesionIds: samples.map((s) => s.lesionId),
    patientIds: samples.map((s) => s.patientId),
    offsets: samples.map((s) => s.offset),
  };
}

/** Selects samples by index into a new SampleSet. */
export function subsetSamples(set: SampleSet, indices: number[]): SampleSet {
  const px = set.size * set.size;
  const cpx = set.channels * px;
  const n = indices.length;
  const x = new Float32Array(n * cpx);
  const y = new Float32Array(n * px);
  const w = new Float32Array(n * px);
  indices.forEach((src, i) => {
    x.set(set.x.subarray(src * cpx, (src + 1) * cpx), i * cpx);
    y.set(set.y.subarray(src * px, (src + 1) * px), i * px);
    w.set(set.w.subarray(src * px, (src + 1) * px), i * px);
  });
  return {
    n,
    channels: set.channels,
    size: set.size,
    x,
    y,
    w,
    lesionIds: indices.map((i) => set.lesionIds[i]),
    patientIds: indices.map((i) => set.patientIds[i]),
    offsets: indices.map((i) => set.offsets[i]),
  };
}

/** Concatenates sample sets of the same shape. */
export function concatSamples(sets: SampleSet[]): SampleSet {
  const first = sets[0];
  if (!first) throw new Recist3dError('E_CONFIG', 'concatSamples needs at least one set');
  let offset = 0;
  const merged = {
    ...first,
    n: sets.reduce((a, s) => a + s.n, 0),
  };
  const px = first.size * first.size;
  merged.x = new Float32Array(merged.n * first.channels * px);
  merged.y = new Float32Array(merged.n * px);
  merged.w = new Float32Array(merged.n * px);
  merged.lesionIds = [];
  merged.patientIds = [];
  merged.offsets = [];
  for (const s of sets) {
    if (s.size !== first.size || s.channels !== first.channels) {
      throw new Recist3dError(
        'E_CONFIG',
        `Cannot concatenate ${s.channels}x${s.size} with ${first.channels}x${first.size}`,
      );
    }
    merged.x.set(s.x, offset * first.channels * px);
    merged.y.set(s.y, offset * px);
    merged.w.set(s.w, offset * px);
    merged.lesionIds.push(...s.lesionIds);
    merged.patientIds.push(...s.patientIds);
    merged.offsets.push(...s.offsets);
    offset += s.n;
  }
  return merged;
}
