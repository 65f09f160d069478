/**
 * Pooled precision-recall curves of probability maps against binary truth (paper Figures 5 and 11): the
 * probabilities are binned (`bins` equal bins on [0, 1]) separately for truth-positive and truth-negative
 * voxels, so curves of large cohorts need constant memory.
 */
export class PrAccumulator {
  readonly pos: Float64Array;
  readonly neg: Float64Array;

  constructor(readonly bins = 200) {
    this.pos = new Float64Array(bins);
    this.neg = new Float64Array(bins);
  }

  /** Adds voxels: `prob[i]` against `truth[i]` (non-zero = lesion). */
  add(prob: ArrayLike<number>, truth: ArrayLike<number>): void {
    const b = this.bins;
    for (let i = 0; i < prob.length; i++) {
      const p = prob[i];
      if (!(p >= 0)) continue;
      const k = Math.min(b - 1, Math.floor(p * b));
      if (truth[i]) this.pos[k]++;
      else this.neg[k]++;
    }
  }

  /** Points [recall, precision, threshold] for thresholds at every bin edge, from high to low threshold. */
  curve(): [number, number, number][] {
    const totalPos = this.pos.reduce((a, v) => a + v, 0);
    const out: [number, number, number][] = [];
    let tp = 0;
    let fp = 0;
    for (let k = this.bins - 1; k >= 0; k--) {
      tp += this.pos[k];
      fp += this.neg[k];
      if (tp + fp === 0) continue;
      out.push([totalPos ? tp / totalPos : 0, tp / (tp + fp), k / this.bins]);
    }
    return out;
  }

  /** The best F-measure (F1) over the thresholds, and where it is reached. */
  maxF(): { f: number; threshold: number } {
    let best = { f: 0, threshold: 0.5 };
    for (const [r, p, t] of this.curve()) {
      const f = r + p > 0 ? (2 * r * p) / (r + p) : 0;
      if (f > best.f) best = { f, threshold: t };
    }
    return best;
  }

  /** Adds another histogram of the same bins (the pooled counts of both). */
  merge(other: PrAccumulator): void {
    if (other.bins !== this.bins)
      throw new Error(`cannot merge PR histograms of ${other.bins} and ${this.bins} bins`);
    for (let k = 0; k < this.bins; k++) {
      this.pos[k] += other.pos[k];
      this.neg[k] += other.neg[k];
    }
  }

  toJSON(): { bins: number; pos: number[]; neg: number[] } {
    return { bins: this.bins, pos: [...this.pos], neg: [...this.neg] };
  }

  /** The histogram that toJSON wrote. */
  static fromJSON(j: { bins: number; pos: number[]; neg: number[] }): PrAccumulator {
    const p = new PrAccumulator(j.bins);
    p.pos.set(j.pos);
    p.neg.set(j.neg);
    return p;
  }
}
