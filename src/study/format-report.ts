/** The study report as Markdown tables (printed by `recist3d study report` and written beside the JSON). */
import { markdownTable as table } from '../util/markdown-table.js';
import type { AcceptanceTable, ComparisonTable, Rate, StudyReport } from './report.js';

function pct(r: Rate): string {
  if (r.rate === null || !r.ci95) return '–';
  const p = (x: number) => (100 * x).toFixed(1);
  return `${p(r.rate)} % (${r.accepted}/${r.total}; 95 % CI ${p(r.ci95[0])}–${p(r.ci95[1])})`;
}

function acceptanceTable(t: AcceptanceTable): string {
  return table(
    ['category', 'automatic (run) accepted', 'manual (manifest mask) accepted'],
    [
      ['**all**', pct(t.overall.auto), pct(t.overall.manual)],
      ...Object.entries(t.byCategory).map(([c, r]) => [c, pct(r.auto), pct(r.manual)]),
    ],
  );
}

function comparisonTable(t: ComparisonTable): string {
  const row = (name: string, c: ComparisonTable['overall']) => [
    name,
    ...[c.autoPreferred, c.both, c.manualPreferred, c.neither, c.total].map(String),
  ];
  return table(
    ['category', 'automatic preferred', 'both acceptable', 'manual preferred', 'neither', 'total'],
    [row('**all**', t.overall), ...Object.entries(t.byCategory).map(([c, x]) => row(c, x))],
  );
}

export function formatStudyReport(r: StudyReport, runName: string): string {
  const out = [
    `# Reader studies of run ${runName}`,
    '',
    `Readers: ${r.readers.join(', ') || 'none yet'}`,
    '',
  ];
  out.push(
    ...section('Acceptance study (accept / reject, blinded to the method)', r.acceptance, acceptanceTable),
  );
  out.push(...section('Comparison study (blinded side by side)', r.comparison, comparisonTable));
  return out.join('\n');
}

/** One study's section: the pooled table, then one per reader. */
function section<T>(
  title: string,
  t: { pooled: T; perReader: Record<string, T> },
  table: (t: T) => string,
): string[] {
  const out = [`## ${title}`, ''];
  if (Object.keys(t.perReader).length === 0) return [...out, 'No answers yet.', ''];
  out.push('### Pooled over readers', '', table(t.pooled), '');
  for (const [n, x] of Object.entries(t.perReader)) out.push(`### Reader ${n}`, '', table(x), '');
  return out;
}
