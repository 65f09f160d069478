import { resolveOptions } from '../util/options.js';
/**
 * A fully connected CRF (Krähenbühl & Koltun 2011) on one grey ROI with two labels, solved by mean field.
 *
 * Unary: -log P(label) from a trimap (the GrabCut-i box trimap in Table 1): FG pixels P(fg) = `fgProb`,
 * uncertain pixels (PFG/PBG) `uncertainProb`, BG pixels `bgProb`.
 * Pairwise (Potts): an appearance kernel exp(-|p-q|^2 / 2 thetaAlpha^2 - |I_p-I_q|^2 / 2 thetaBeta^2) with
 * weight `appearanceWeight`, and a smoothness kernel exp(-|p-q|^2 / 2 thetaGamma^2) with `smoothnessWeight`.
 *
 * What differs from the reference implementation (documented in docs/table1.md):
 * - The appearance filter is a bilateral grid (Paris & Durand 2006), not a permutohedral lattice: splat onto a
 *   grid sampled every thetaAlpha px and thetaBeta grey levels, blur with a 5-tap Gaussian (sigma = 1 cell),
 *   slice trilinearly. The smoothness filter is an exact separable Gaussian (radius 3 sigma).
 * - Both filters are normalised (each message is a weighted *average* of the neighbours' Q, including the
 *   pixel itself), so the weights do not depend on the kernel widths or the ROI size.
 */

export interface DenseCrfOptions {
  /** Unary P(fg) on trimap FG pixels. */
  fgProb?: number;
  /** Unary P(fg) on uncertain (PFG and PBG) pixels. */
  uncertainProb?: number;
  /** Unary P(fg) on trimap BG pixels. */
  bgProb?: number;
  /** Spatial width of the appearance kernel in ROI pixels. */
  thetaAlpha?: number;
  /** Intensity width of the appearance kernel in grey levels (0..255). */
  thetaBeta?: number;
  /** Width of the smoothness kernel in ROI pixels. */
  thetaGamma?: number;
  /** Weight of the appearance kernel. */
  appearanceWeight?: number;
  /** Weight of the smoothness kernel. */
  smoothnessWeight?: number;
  /** Mean-field iterations. */
  iterations?: number;
}

export const DENSE_CRF_DEFAULTS = {
  // tuned on the first 200 LIDC nodules (docs/table1.md): fgProb 0.95, thetaBeta 8, appearanceWeight 8
  fgProb: 0.95,
  uncertainProb: 0.5,
  bgProb: 0.05,
  thetaAlpha: 10,
  thetaBeta: 8,
  thetaGamma: 3,
  appearanceWeight: 8,
  smoothnessWeight: 3,
  iterations: 5,
} satisfies Required<DenseCrfOptions>;

/**
 * Mean-field inference; returns the final Q(fg) (n * n values). `image` is grey 0..255, `trimap` uses the
 * TRIMAP labels (BG 0, FG 1, PBG 2, PFG 3).
 */
export function denseCrfProbability(
  image: ArrayLike<number>,
  trimap: ArrayLike<number>,
  n: number,
  options: DenseCrfOptions = {},
): Float32Array {
  const o = resolveOptions(DENSE_CRF_DEFAULTS, options);
  const total = n * n;
  const uFg = new Float32Array(total);
  const uBg = new Float32Array(total);
  const clampP = (p: number) => Math.min(1 - 1e-6, Math.max(1e-6, p));
  for (let i = 0; i < total; i++) {
    const t = trimap[i];
    const p = clampP(t === 1 ? o.fgProb : t === 0 ? o.bgProb : o.uncertainProb);
    uFg[i] = -Math.log(p);
    uBg[i] = -Math.log(1 - p);
  }
  const q = new Float32Array(total);
  for (let i = 0; i < total; i++) q[i] = 1 / (1 + Math.exp(uFg[i] - uBg[i]));
  const grid = new BilateralGrid(image, n, o.thetaAlpha, o.thetaBeta);
  for (let it = 0; it < o.iterations; it++) {
    // Both filters are normalised and linear, so filter(1 - q) = 1 - filter(q): one pass per kernel.
    const appFg = grid.filter(q);
    const smFg = gaussianFilter(q, n, o.thetaGamma);
    for (let i = 0; i < total; i++) {
      // Potts: a label pays for the mass of the other label around it
      const eFg = uFg[i] + o.appearanceWeight * (1 - appFg[i]) + o.smoothnessWeight * (1 - smFg[i]);
      const eBg = uBg[i] + o.appearanceWeight * appFg[i] + o.smoothnessWeight * smFg[i];
      q[i] = 1 / (1 + Math.exp(eFg - eBg));
    }
  }
  return q;
}

/** The DCRF label map: 1 where Q(fg) > 0.5. */
export function denseCrfMask(
  image: ArrayLike<number>,
  trimap: ArrayLike<number>,
  n: number,
  options: DenseCrfOptions = {},
): Uint8Array {
  const q = denseCrfProbability(image, trimap, n, options);
  return Uint8Array.from(q, (v) => (v > 0.5 ? 1 : 0));
}

/** Normalised separable Gaussian filter of an n x n image (weights renormalised at the borders). */
export function gaussianFilter(x: ArrayLike<number>, n: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, t) => Math.exp(-((t - r) ** 2) / (2 * sigma * sigma)));
  const tmp = new Float32Array(n * n);
  const out = new Float32Array(n * n);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      let s = 0;
      let w = 0;
      for (let t = Math.max(-r, -u); t <= Math.min(r, n - 1 - u); t++) {
        s += k[t + r] * x[u + t + n * v];
        w += k[t + r];
      }
      tmp[u + n * v] = s / w;
    }
  }
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      let s = 0;
      let w = 0;
      for (let t = Math.max(-r, -v); t <= Math.min(r, n - 1 - v); t++) {
        s += k[t + r] * tmp[u + n * (v + t)];
        w += k[t + r];
      }
      out[u + n * v] = s / w;
    }
  }
  return out;
}

/** A 2D+intensity bilateral grid over a fixed grey image; `filter` gives normalised bilateral averages. */
export class BilateralGrid {
  private readonly dims: [number, number, number];
  /** 8 grid cells and trilinear weights per pixel, precomputed once. */
  private readonly cells: Int32Array;
  private readonly cellWeights: Float32Array;
  private readonly weights: Float32Array; // blurred splat of ones, sliced per pixel
  private readonly grid: Float32Array;
  private readonly tmp: Float32Array;

  constructor(
    image: ArrayLike<number>,
    private readonly n: number,
    sigmaSpacePx: number,
    sigmaRange: number,
  ) {
    const pad = 2;
    const gx = Math.ceil((n - 1) / sigmaSpacePx) + 1 + 2 * pad;
    const gz = Math.ceil(255 / sigmaRange) + 1 + 2 * pad;
    this.dims = [gx, gx, gz];
    this.grid = new Float32Array(gx * gx * gz);
    this.tmp = new Float32Array(gx * gx * gz);
    const total = n * n;
    this.cells = new Int32Array(8 * total);
    this.cellWeights = new Float32Array(8 * total);
    for (let v = 0; v < n; v++) {
      for (let u = 0; u < n; u++) {
        const p = u + n * v;
        const x = u / sigmaSpacePx + pad;
        const y = v / sigmaSpacePx + pad;
        const z = image[p] / sigmaRange + pad;
        const [x0, y0, z0] = [Math.floor(x), Math.floor(y), Math.floor(z)];
        const [fx, fy, fz] = [x - x0, y - y0, z - z0];
        for (let c = 0; c < 8; c++) {
          const dx = c & 1;
          const dy = (c >> 1) & 1;
          const dz = (c >> 2) & 1;
          this.cells[8 * p + c] = x0 + dx + gx * (y0 + dy + gx * (z0 + dz));
          this.cellWeights[8 * p + c] = (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy) * (dz ? fz : 1 - fz);
        }
      }
    }
    this.weights = this.sliceBlurred(new Float32Array(total).fill(1));
  }

  /** Normalised bilateral filtering of `x` (n * n values). */
  filter(x: ArrayLike<number>): Float32Array {
    const s = this.sliceBlurred(x);
    for (let i = 0; i < s.length; i++) s[i] /= this.weights[i];
    return s;
  }

  private sliceBlurred(x: ArrayLike<number>): Float32Array {
    const { grid, cells, cellWeights } = this;
    grid.fill(0);
    const total = this.n * this.n;
    for (let p = 0; p < total; p++) {
      const xp = x[p];
      for (let c = 8 * p; c < 8 * p + 8; c++) grid[cells[c]] += cellWeights[c] * xp;
    }
    blur3d(grid, this.tmp, this.dims);
    const out = new Float32Array(total);
    for (let p = 0; p < total; p++) {
      let s = 0;
      for (let c = 8 * p; c < 8 * p + 8; c++) s += cellWeights[c] * grid[cells[c]];
      out[p] = s;
    }
    return out;
  }
}

const BLUR5 = (() => {
  const k = [-2, -1, 0, 1, 2].map((t) => Math.exp(-(t * t) / 2));
  const s = k.reduce((a, b) => a + b, 0);
  return k.map((v) => v / s);
})();

/** In-place separable 5-tap Gaussian (sigma = 1 cell) over a 3D grid, zero outside. */
function blur3d(g: Float32Array, tmp: Float32Array, dims: [number, number, number]): void {
  const [gx, gy, gz] = dims;
  const strides = [1, gx, gx * gy];
  for (let axis = 0; axis < 3; axis++) {
    const st = strides[axis];
    const len = dims[axis];
    let idx = 0;
    for (let z = 0; z < gz; z++) {
      for (let y = 0; y < gy; y++) {
        for (let x = 0; x < gx; x++, idx++) {
          const c = axis === 0 ? x : axis === 1 ? y : z;
          let s = 0;
          for (let t = -2; t <= 2; t++) if (c + t >= 0 && c + t < len) s += BLUR5[t + 2] * g[idx + t * st];
          tmp[idx] = s;
        }
      }
    }
    g.set(tmp);
  }
}
