import { encode } from 'fast-png';

/** An RGB raster for figures: `data` is h*w*3 bytes, row-major. */
export interface Rgb {
  w: number;
  h: number;
  data: Uint8Array;
}

export type Color = [number, number, number];

/**
 * Renders an axial slice window (columns i0..i0+w-1, rows j0..j0+h-1 of a volume slice with `ni` columns) as
 * grayscale RGB using the HU window [lo, hi]; out-of-image pixels are black. Upscaled by an integer `zoom`.
 */
export function renderSlice(
  slice: ArrayLike<number>,
  ni: number,
  nj: number,
  box: { i0: number; j0: number; w: number; h: number },
  windowHu: [number, number],
  zoom = 1,
): Rgb {
  const W = box.w * zoom;
  const H = box.h * zoom;
  const data = new Uint8Array(W * H * 3);
  const [lo, hi] = windowHu;
  for (let y = 0; y < H; y++) {
    const j = box.j0 + Math.floor(y / zoom);
    for (let x = 0; x < W; x++) {
      const i = box.i0 + Math.floor(x / zoom);
      let g = 0;
      if (i >= 0 && j >= 0 && i < ni && j < nj) {
        g = Math.round(Math.min(1, Math.max(0, (slice[i + ni * j] - lo) / (hi - lo))) * 255);
      }
      const o = (y * W + x) * 3;
      data[o] = data[o + 1] = data[o + 2] = g;
    }
  }
  return { w: W, h: H, data };
}

/** Draws the boundary of a binary slice mask (same box and zoom as renderSlice) in `color`. */
export function drawContour(
  img: Rgb,
  mask: ArrayLike<number>,
  ni: number,
  nj: number,
  box: { i0: number; j0: number },
  zoom: number,
  color: Color,
): void {
  const at = (i: number, j: number) => (i >= 0 && j >= 0 && i < ni && j < nj ? mask[i + ni * j] > 0 : false);
  for (let y = 0; y < img.h; y++) {
    for (let x = 0; x < img.w; x++) {
      const i = box.i0 + Math.floor(x / zoom);
      const j = box.j0 + Math.floor(y / zoom);
      if (!at(i, j)) continue;
      // boundary pixel of the zoomed mask: a neighbour (in zoomed space) maps to an outside voxel
      const nbrs: [number, number][] = [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ];
      const edge = nbrs.some(
        ([xx, yy]) => !at(box.i0 + Math.floor(xx / zoom), box.j0 + Math.floor(yy / zoom)),
      );
      if (edge) setPixel(img, x, y, color);
    }
  }
}

/** Draws a line segment given in voxel coordinates (x = i, y = j) of the slice. */
export function drawSegment(
  img: Rgb,
  a: [number, number],
  b: [number, number],
  box: { i0: number; j0: number },
  zoom: number,
  color: Color,
): void {
  const ax = (a[0] - box.i0 + 0.5) * zoom;
  const ay = (a[1] - box.j0 + 0.5) * zoom;
  const bx = (b[0] - box.i0 + 0.5) * zoom;
  const by = (b[1] - box.j0 + 0.5) * zoom;
  const steps = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay)));
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    setPixel(img, Math.round(ax + t * (bx - ax)), Math.round(ay + t * (by - ay)), color);
  }
}

function setPixel(img: Rgb, x: number, y: number, c: Color): void {
  if (x < 0 || y < 0 || x >= img.w || y >= img.h) return;
  const o = (y * img.w + x) * 3;
  img.data[o] = c[0];
  img.data[o + 1] = c[1];
  img.data[o + 2] = c[2];
}

/** Places images side by side (top-aligned) with a gap, on black. */
export function hstack(images: Rgb[], gap = 4): Rgb {
  const w = images.reduce((a, im) => a + im.w, 0) + gap * Math.max(0, images.length - 1);
  const h = Math.max(1, ...images.map((im) => im.h));
  const data = new Uint8Array(w * h * 3);
  let x0 = 0;
  for (const im of images) {
    for (let y = 0; y < im.h; y++)
      data.set(im.data.subarray(y * im.w * 3, (y + 1) * im.w * 3), (y * w + x0) * 3);
    x0 += im.w + gap;
  }
  return { w, h, data };
}

export function encodePng(img: Rgb): Uint8Array {
  return encode({ width: img.w, height: img.h, data: img.data, channels: 3, depth: 8 });
}

export function pngDataUri(img: Rgb): string {
  return `data:image/png;base64,${Buffer.from(encodePng(img)).toString('base64')}`;
}
