/** The study report as Markdown tables (printed by `recist3d study report` and written beside the JSON). */
import type { AcceptanceTable, ComparisonTable, Rate, StudyReport } from './report.js';

function pct(r: Rate): string {
  if (r.rate === null || !r.ci95) return '–';
  const p = (x: number) => (100 * x).toFixed(1);
  return `${p(r.rate)} % (${r.accepted}/${r.total}; 95 % CI ${p(r.ci95[0])}–${p(r.ci95[1])})`;
}

function table(header: string[], rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
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
  out.push('## Acceptance study (accept / reject, blinded to the method)', '');
  if (Object.keys(r.acceptance.perReader).length === 0) out.push('No answers yet.', '');
  else {
    out.push('### Pooled over readers', '', acceptanceTable(r.acceptance.pooled), '');
    for (const [n, t] of Object.entries(r.acceptance.perReader))
      out.push(`### Reader ${n}`, '', acceptanceTable(t), '');
  }
  out.push('## Comparison study (blinded side by side)', '');
  if (Object.keys(r.comparison.perReader).length === 0) out.push('No answers yet.', '');
  else {
    out.push('### Pooled over readers', '', comparisonTable(r.comparison.pooled), '');
    for (const [n, t] of Object.entries(r.comparison.perReader))
      out.push(`### Reader ${n}`, '', comparisonTable(t), '');
  }
  return out.join('\n');
}
