import type { CheckpointInput } from '../../src/model/checkpoint.js';

/** The `input` of a test checkpoint: one image channel, no prior, no SR channels, ROI twice the RECIST box. */
export const PLAIN_INPUT: CheckpointInput = {
  roiScale: 2,
  padMode: 'reflect',
  window: 'record-or-category',
  prior: 'none',
  context: 0,
  sr: null,
};
