/**
 * Render timings for the benchmark (bench/viewer): with `?timing=1` in the URL, each view waits for the GPU
 * after drawing and the page records how long an action took, in `window.__recist3dTimings`.
 */
export interface TimingEntry {
  what: 'open-lesion' | 'next-slice';
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
