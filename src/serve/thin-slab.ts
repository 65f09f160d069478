/**
 * The thin slab the lesion view shows first: the RECIST slice and `THIN_SLAB_HALF` slices on each side, within
 * the lesion's slab. NiiVue's cost of taking in a volume grows with its slices, so the first slice appears
 * after this small volume; the whole slab follows. Shared by the server and the page.
 */
export const THIN_SLAB_HALF = 2;

export function thinSlabRange(slab: { k0: number; k1: number }, keySlice: number | null): [number, number] {
  const key = Math.min(slab.k1, Math.max(slab.k0, keySlice ?? slab.k0));
  return [Math.max(slab.k0, key - THIN_SLAB_HALF), Math.min(slab.k1, key + THIN_SLAB_HALF)];
}
