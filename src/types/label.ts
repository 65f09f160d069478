/** Training labels on ROI slices: round 0 (key slices) and the harvests of the self-paced rounds. */

/** How a label was made. */
export type LabelSource =
  'grabcut' | 'grabcut-fallback' | 'cnn-fallback' | 'recist-trimap' | 'truth' | 'direct';

export interface HarvestedLabel {
  lesionId: string;
  /** Slice index k in the image. */
  k: number;
  /** Offset from the key slice. */
  offset: number;
  source: LabelSource;
  /** n*n target, 0/1. */
  y: Uint8Array;
  /** n*n weight, 0/1 (0 = ignored in training). */
  w: Uint8Array;
  /**
   * The network's input on this slice (channels*n*n), carried only where the lesion's ROI stack is not at
   * hand: a distributed job's ranks build the stacks of their own lesions and train on every rank's labels.
   */
  x?: Float32Array;
}
