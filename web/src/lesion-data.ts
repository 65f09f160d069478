/** A lesion's slab (detail, CT NIfTI, packed masks), fetched once and kept for the neighbours in the list. */
import type { LesionDetail } from '../../src/serve/api-types';
import { enc, getBytes, getJson } from './api';

export interface LesionData {
  detail: LesionDetail;
  /** The thin slab around the RECIST slice: what the lesion view shows first. */
  thinCt: ArrayBuffer;
  masks: Uint8Array;
  /**
   * The whole slab, requested once the rest has arrived (so the server cuts the thin slab first); a failed
   * request is made again at the next call.
   */
  full(): Promise<ArrayBuffer>;
}

const cache = new Map<string, Promise<LesionData>>();
const MAX_CACHED = 8;

export function lesionData(id: string): Promise<LesionData> {
  const hit = cache.get(id);
  if (hit) {
    cache.delete(id);
    cache.set(id, hit);
    return hit;
  }
  const base = `/api/lesions/${enc(id)}`;
  let full: Promise<ArrayBuffer> | undefined;
  const p = Promise.all([
    getJson<LesionDetail>(base),
    getBytes(`${base}/ct.nii?thin=1`),
    getBytes(`${base}/masks.bin`),
  ]).then(([detail, thinCt, masks]) => {
    const data: LesionData = {
      detail,
      thinCt,
      masks: new Uint8Array(masks),
      full: () => {
        if (!full) {
          full = getBytes(`${base}/ct.nii`);
          // a failed fetch is not kept: the next call tries again
          full.catch(() => (full = undefined));
        }
        return full;
      },
    };
    void data.full().catch(() => undefined);
    return data;
  });
  p.catch(() => cache.delete(id));
  cache.set(id, p);
  while (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
  return p;
}

/** Starts fetching (and ignores errors: the lesion view shows them when opened). */
export function prefetch(id: string | undefined): void {
  if (id) lesionData(id).catch(() => undefined);
}
