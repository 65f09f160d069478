/**
 * What the paper reports from its reader studies: acceptance rates per method (overall and per lesion
 * category) and the blinded comparison's counts (automatic preferred, both acceptable, manual preferred,
 * neither), per reader and pooled over readers.
 */
import type { AnswerRow } from './db.js';
import type { Method } from './plan.js';

/** accepted of total, with the Wilson 95 % interval. */
export interface Rate {
  accepted: number;
  total: number;
  rate: number | null;
  ci95: [number, number] | null;
}

export interface AcceptanceTable {
  overall: Record<Method, Rate>;
  byCategory: Record<string, Record<Method, Rate>>;
}

export interface ComparisonCounts {
  autoPreferred: number;
  both: number;
  manualPreferred: number;
  neither: number;
  total: number;
}

export interface ComparisonTable {
  overall: ComparisonCounts;
  byCategory: Record<string, ComparisonCounts>;
}

export interface StudyReport {
  readers: string[];
  acceptance: { pooled: AcceptanceTable; perReader: Record<string, AcceptanceTable> };
  comparison: { pooled: ComparisonTable; perReader: Record<string, ComparisonTable> };
}

/** Wilson score interval for k of n at 95 %. */
export function wilson(k: number, n: number): [number, number] | null {
  if (n === 0) return null;
  const z = 1.959964;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

function rate(accepted: number, total: number): Rate {
  return { accepted, total, rate: total ? accepted / total : null, ci95: wilson(accepted, total) };
}

function acceptance(rows: AnswerRow[], category: (id: string) => string): AcceptanceTable {
  const tally = () => ({ auto: [0, 0], manual: [0, 0] }) as Record<Method, [number, number]>;
  const all = tally();
  const byCat = new Map<string, Record<Method, [number, number]>>();
  for (const r of rows) {
    const m = r.shown as Method;
    const cat = category(r.lesionId);
    if (!byCat.has(cat)) byCat.set(cat, tally());
    for (const t of [all, byCat.get(cat)!]) {
      t[m][1]++;
      if (r.answer === 'accept') t[m][0]++;
    }
  }
  const rates = (t: Record<Method, [number, number]>) => ({
    auto: rate(...t.auto),
    manual: rate(...t.manual),
  });
  return {
    overall: rates(all),
    byCategory: Object.fromEntries([...byCat].sort().map(([c, t]) => [c, rates(t)])),
  };
}

/** The method the reader preferred, 'both' or 'neither'. */
export function preferred(row: Pick<AnswerRow, 'answer' | 'shown'>): Method | 'both' | 'neither' {
  const [left, right] = row.shown.split(',') as Method[];
  if (row.answer === 'left') return left;
  if (row.answer === 'right') return right;
  return row.answer as 'both' | 'neither';
}

function comparison(rows: AnswerRow[], category: (id: string) => string): ComparisonTable {
  const zero = (): ComparisonCounts => ({
    autoPreferred: 0,
    both: 0,
    manualPreferred: 0,
    neither: 0,
    total: 0,
  });
  const all = zero();
  const byCat = new Map<string, ComparisonCounts>();
  for (const r of rows) {
    const cat = category(r.lesionId);
    if (!byCat.has(cat)) byCat.set(cat, zero());
    const p = preferred(r);
    const key = p === 'auto' ? 'autoPreferred' : p === 'manual' ? 'manualPreferred' : p;
    for (const c of [all, byCat.get(cat)!]) {
      c[key]++;
      c.total++;
    }
  }
  return { overall: all, byCategory: Object.fromEntries([...byCat].sort()) };
}

/** `table` of all rows (pooled) and of each reader's rows, for the readers who have any. */
function pooledAndPerReader<T>(
  rows: AnswerRow[],
  table: (rows: AnswerRow[]) => T,
): { pooled: T; perReader: Record<string, T> } {
  const names = [...new Set(rows.map((r) => r.reader))].sort();
  return {
    pooled: table(rows),
    perReader: Object.fromEntries(names.map((n) => [n, table(rows.filter((r) => r.reader === n))])),
  };
}

/** The report of every stored answer; `category` maps a lesion id to its category. */
export function studyReport(rows: AnswerRow[], category: (id: string) => string): StudyReport {
  const of = (kind: AnswerRow['kind']) => rows.filter((r) => r.kind === kind);
  return {
    readers: [...new Set(rows.map((r) => r.reader))].sort(),
    acceptance: pooledAndPerReader(of('acceptance'), (r) => acceptance(r, category)),
    comparison: pooledAndPerReader(of('comparison'), (r) => comparison(r, category)),
  };
}
