export * from './overlap.js';
export * from './distance.js';
export * from './segmentation.js';
export * from './aggregate.js';
