/** The run and the cohort list's order, shared by the list and the lesion view (next/previous follow the list). */
import type { LesionInfo, RunInfo } from '../../src/serve/api-types';
import { getJson } from './api';

export type SortKey = 'lesionId' | 'category' | 'status' | 'volumeMm3' | 'ellipsoidMm3' | 'qc' | 'dice3d';

export const state = {
  run: undefined as RunInfo | undefined,
  lesions: [] as LesionInfo[],
  sort: { key: 'lesionId' as SortKey, desc: false },
  filter: '',
  selected: 0,
};

export async function loadRun(): Promise<void> {
  if (state.run) return;
  [state.run, state.lesions] = await Promise.all([
    getJson<RunInfo>('/api/run'),
    getJson<LesionInfo[]>('/api/lesions'),
  ]);
}

/** Names of the QC flags that are set (non-zero) on a lesion. */
export function qcSet(l: LesionInfo): string[] {
  return Object.entries(l.qc)
    .filter(([, v]) => v)
    .map(([k, v]) => (v === 1 ? k : `${k}=${v}`));
}

function sortValue(l: LesionInfo, key: SortKey): string | number | null {
  if (key === 'qc') return qcSet(l).length;
  return l[key];
}

/** The lesions the list shows, filtered and sorted (missing values last). */
export function visibleLesions(): LesionInfo[] {
  const words = state.filter.toLowerCase().split(/\s+/).filter(Boolean);
  const rows = state.lesions.filter((l) => {
    const text = [l.lesionId, l.category, l.status, l.patientId, l.split, ...qcSet(l)]
      .join(' ')
      .toLowerCase();
    return words.every((w) => text.includes(w));
  });
  const { key, desc } = state.sort;
  return rows.sort((a, b) => {
    const x = sortValue(a, key);
    const y = sortValue(b, key);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
    return desc ? -c : c;
  });
}
