export * from './labels.js';
export * from './raster.js';
export * from './recist-trimap.js';
export * from './box-trimap.js';
