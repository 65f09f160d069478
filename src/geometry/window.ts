import { Recist3dError } from '../errors.js';
import type { Volume } from '../types/volume.js';
import { geometryOf, type CaseGeometry } from './case-geometry.js';
import { resolveOptions } from '../util/options.js';

export interface WindowOptions {
  /** HU mapped to 0. */
  minHu: number;
  /** HU mapped to 1 (float32) or 255 (uint8). */
  maxHu: number;
  /** 'float32' -> Float32Array in [0, 1]; 'uint8' -> Uint8Array 0..255 (rounded). */
  output?: 'float32' | 'uint8';
}

const DEFAULTS = { minHu: -1024, maxHu: 3071, output: 'float32' } satisfies Required<WindowOptions>;

/** Clips HU to [minHu, maxHu] and scales linearly. The grid is unchanged (geometry passes through). */
export function window(
  vol: Volume,
  options: WindowOptions,
): { volume: Volume<Float32Array> | Volume<Uint8Array>; geometry: CaseGeometry } {
  const o = resolveOptions(DEFAULTS, options);
  if (!(Number.isFinite(o.minHu) && Number.isFinite(o.maxHu) && o.minHu < o.maxHu))
    throw new Recist3dError('E_GEOMETRY', `Window needs minHu < maxHu, got [${o.minHu}, ${o.maxHu}]`, {
      field: 'window',
    });
  const n = vol.data.length;
  const inv = 1 / (o.maxHu - o.minHu);
  const geometry = geometryOf(vol);
  const base = { size: vol.size, spacingMm: vol.spacingMm, origin: vol.origin, direction: vol.direction };
  const meta = { ...vol.meta, caseGeometry: geometry, windowHu: [o.minHu, o.maxHu] };
  if (o.output === 'uint8') {
    const data = new Uint8Array(n);
    for (let x = 0; x < n; x++) {
      const t = (vol.data[x] - o.minHu) * inv;
      data[x] = t <= 0 ? 0 : t >= 1 ? 255 : Math.round(t * 255);
    }
    return { volume: { ...base, data, meta }, geometry };
  }
  const data = new Float32Array(n);
  for (let x = 0; x < n; x++) {
    const t = (vol.data[x] - o.minHu) * inv;
    data[x] = t <= 0 ? 0 : t >= 1 ? 1 : t;
  }
  return { volume: { ...base, data, meta }, geometry };
}
