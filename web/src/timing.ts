import { Niivue, SLICE_TYPE } from '@niivue/niivue';
/**
 * Render timings for the benchmark (bench/viewer): with `?timing=1` in the URL, each view waits for the GPU
 * after drawing and the page records how long an action took, in `window.__recist3dTimings`.
 */
export interface TimingEntry {
  /**
   * open-data: the lesion's data is in the page (fetched or prefetched); open-lesion: its first slice drawn;
   * open-whole: its whole slab drawn (every slice can be scrolled to).
   */
  what: 'open-data' | 'open-lesion' | 'open-whole' | 'next-slice';
  ms: number;
}

export const timing = {
  enabled: new URLSearchParams(location.search).has('timing'),
  entries: [] as TimingEntry[],
  record(what: TimingEntry['what'], t0: number): void {
    if (!this.enabled) return;
    this.entries.push({ what, ms: performance.now() - t0 });
  },
};
(window as unknown as { __recist3dTimings: TimingEntry[] }).__recist3dTimings = timing.entries;

/**
 * The benchmark's peer, plain NiiVue as a user would call it: `loadVolumes` on the lesion's whole source NIfTI
 * (fetched and decompressed in the browser), then its own slice stepping. Returns [first slice ms, next slice ms].
 */
export async function plainNiivue(
  canvas: HTMLCanvasElement,
  url: string,
  name: string,
): Promise<[number, number]> {
  const t0 = performance.now();
  const nv = new Niivue({
    logLevel: 'error',
    loadingText: '',
    isRadiologicalConvention: true,
    sliceType: SLICE_TYPE.AXIAL,
  });
  await nv.attachToCanvas(canvas);
  await nv.loadVolumes([{ url, name }]);
  nv.drawScene();
  const sync = () => nv.gl.readPixels(0, 0, 1, 1, nv.gl.RGBA, nv.gl.UNSIGNED_BYTE, new Uint8Array(4));
  sync();
  const first = performance.now() - t0;
  const t1 = performance.now();
  nv.moveCrosshairInVox(0, 0, 1);
  nv.drawScene();
  sync();
  const next = performance.now() - t1;
  nv.gl.getExtension('WEBGL_lose_context')?.loseContext();
  return [first, next];
}
