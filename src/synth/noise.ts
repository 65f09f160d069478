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
  const out = new Float32Array(ni * nj * nk);
  // Trilinear blend of smoothstepped values has variance < 1; this factor brings it back to about 1.
  const gain = 1.6;
  let idx = 0;
  for (let k = 0; k < nk; k++) {
    const ck = az.cell[k];
    const wk = az.w[k];
    for (let j = 0; j < nj; j++) {
      const cj = ay.cell[j];
      const wj = ay.w[j];
      const b00 = li * (cj + lj * ck);
      const b10 = li * (cj + 1 + lj * ck);
      const b01 = li * (cj + lj * (ck + 1));
      const b11 = li * (cj + 1 + lj * (ck + 1));
      for (let i = 0; i < ni; i++, idx++) {
        const ci = ax.cell[i];
        const wi = ax.w[i];
        const x00 = lattice[b00 + ci] + wi * (lattice[b00 + ci + 1] - lattice[b00 + ci]);
        const x10 = lattice[b10 + ci] + wi * (lattice[b10 + ci + 1] - lattice[b10 + ci]);
        const x01 = lattice[b01 + ci] + wi * (lattice[b01 + ci + 1] - lattice[b01 + ci]);
        const x11 = lattice[b11 + ci] + wi * (lattice[b11 + ci + 1] - lattice[b11 + ci]);
        const y0 = x00 + wj * (x10 - x00);
        const y1 = x01 + wj * (x11 - x01);
        out[idx] = gain * (y0 + wk * (y1 - y0));
      }
    }
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
