/**
 * Random fields for the phantom generator: smooth value noise (tissue texture, boundary wobble) and
 * in-plane correlated Gaussian noise (CT quantum noise). All fields are Float32Array on a volume grid,
 * indexed i fastest: index = i + ni * (j + nj * k).
 */
import type { Vec3 } from '../types/volume.js';
import type { Rng } from '../util/random.js';

const smooth = (t: number): number => t * t * (3 - 2 * t);

/**
 * Smooth 3D value noise with zero mean and roughly unit variance: random values on a lattice of
 * `cellMm` (world units, so texture does not change with the voxel size) interpolated with a smoothstep.
 */
export function valueNoise3d(size: Vec3, spacingMm: Vec3, cellMm: number, rng: Rng): Float32Array {
  const [ni, nj, nk] = size;
  const li = Math.ceil((ni * spacingMm[0]) / cellMm) + 2;
  const lj = Math.ceil((nj * spacingMm[1]) / cellMm) + 2;
  const lk = Math.ceil((nk * spacingMm[2]) / cellMm) + 2;
  const lattice = new Float32Array(li * lj * lk);
  for (let n = 0; n < lattice.length; n++) lattice[n] = rng.normal();
  // Precompute per-axis lattice cell and smoothstep weight.
  const axis = (n: number, s: number) => {
    const cell = new Int32Array(n);
    const w = new Float32Array(n);
    const off = rng.next();
    for (let a = 0; a < n; a++) {
      const u = (a * s) / cellMm + off;
      cell[a] = Math.floor(u);
      w[a] = smooth(u - cell[a]);
    }
    return { cell, w };
  };
  const ax = axis(ni, spacingMm[0]);
  const ay = axis(nj, spacingMm[1]);
  const az = axis(nk, spacingMm[2]);
  // Separable tensor-product interpolation: along i, then j, then k (each pass reads two neighbours).
  const gain = 1.6; // the smoothstep blend has variance < 1; this brings it back to about 1
  const alongI = new Float32Array(ni * lj * lk);
  for (let r = 0; r < lj * lk; r++) {
    const src = r * li;
    const dst = r * ni;
    for (let i = 0; i < ni; i++) {
      const a = lattice[src + ax.cell[i]];
      alongI[dst + i] = a + ax.w[i] * (lattice[src + ax.cell[i] + 1] - a);
    }
  }
  const alongJ = new Float32Array(ni * nj * lk);
  for (let c = 0; c < lk; c++) {
    for (let j = 0; j < nj; j++) {
      const r0 = (ay.cell[j] + lj * c) * ni;
      const r1 = r0 + ni;
      const w = ay.w[j];
      const dst = (j + nj * c) * ni;
      for (let i = 0; i < ni; i++) alongJ[dst + i] = alongI[r0 + i] + w * (alongI[r1 + i] - alongI[r0 + i]);
    }
  }
  const out = new Float32Array(ni * nj * nk);
  const plane = ni * nj;
  for (let k = 0; k < nk; k++) {
    const p0 = az.cell[k] * plane;
    const p1 = p0 + plane;
    const w = az.w[k];
    const dst = k * plane;
    for (let t = 0; t < plane; t++)
      out[dst + t] = gain * (alongJ[p0 + t] + w * (alongJ[p1 + t] - alongJ[p0 + t]));
  }
  return out;
}

function gaussianKernel(sigmaVox: number): Float32Array {
  const r = Math.max(1, Math.ceil(3 * sigmaVox));
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let t = -r; t <= r; t++) sum += k[t + r] = Math.exp(-(t * t) / (2 * sigmaVox * sigmaVox));
  for (let t = 0; t < k.length; t++) k[t] /= sum;
  return k;
}

/**
 * Separable Gaussian blur within each axial slice (in place), sigma in voxels. Edges are clamped.
 * Used for the scanner's point spread, which also correlates the quantum noise in-plane.
 */
export function blurInPlane(data: Float32Array, size: Vec3, sigmaVox: number): void {
  if (sigmaVox <= 0) return;
  const [ni, nj, nk] = size;
  const kern = gaussianKernel(sigmaVox);
  const r = (kern.length - 1) / 2;
  const line = new Float32Array(ni + 2 * r);
  const plane = new Float32Array(ni * nj);
  for (let k = 0; k < nk; k++) {
    const base = k * ni * nj;
    // along i: one padded row at a time
    for (let j = 0; j < nj; j++) {
      const row = base + j * ni;
      for (let i = 0; i < ni; i++) line[i + r] = data[row + i];
      for (let t = 0; t < r; t++) {
        line[t] = data[row];
        line[ni + r + t] = data[row + ni - 1];
      }
      for (let i = 0; i < ni; i++) {
        let s = 0;
        for (let t = 0; t < kern.length; t++) s += kern[t] * line[i + t];
        data[row + i] = s;
      }
    }
    // along j: whole rows at a time (contiguous inner loop)
    plane.set(data.subarray(base, base + ni * nj));
    for (let j = 0; j < nj; j++) {
      const row = base + j * ni;
      data.fill(0, row, row + ni);
      for (let t = -r; t <= r; t++) {
        const jj = j + t < 0 ? 0 : j + t >= nj ? nj - 1 : j + t;
        const w = kern[t + r];
        const src = jj * ni;
        for (let i = 0; i < ni; i++) data[row + i] += w * plane[src + i];
      }
    }
  }
}

/** Standard deviation of white noise of unit variance after blurInPlane(sigmaVox). */
export function blurredNoiseStd(sigmaVox: number): number {
  const kern = gaussianKernel(sigmaVox);
  let s2 = 0;
  for (const v of kern) s2 += v * v;
  return s2; // sqrt((sum k^2)^2) over the two in-plane axes
}

/**
 * Adds white noise of standard deviation `sigma` to `data` (in place). Each sample is a sum of three
 * uniforms (bell-shaped; the in-plane blur that follows makes it Gaussian), drawn with an inlined
 * mulberry32 seeded from `rng`, several times faster than Box-Muller through closures.
 */
export function addWhiteNoise(data: Float32Array, sigma: number, rng: Rng): void {
  let state = Math.floor(rng.next() * 4294967296) | 0;
  const scale = (sigma * 2) / 4294967296; // sum of 3 U(0,1) has std 1/2
  for (let t = 0; t < data.length; t++) {
    let acc = 0;
    for (let q = 0; q < 3; q++) {
      state = (state + 0x6d2b79f5) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 15), z | 1);
      z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
      acc += (z ^ (z >>> 14)) >>> 0;
    }
    data[t] += scale * (acc - 1.5 * 4294967296);
  }
}
