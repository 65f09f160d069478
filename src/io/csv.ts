/** Writing CSV text (RFC 4180 quoting); reading goes through csv-parse in the loaders. */

/** RFC 4180 cell: quoted when it holds a comma, quote or newline. */
export function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV text: the header line joined as given (column names need no quoting), then one line per row with every
 * cell through `csvCell`, and a final newline.
 */
export function csvText(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header.join(','), ...rows.map((r) => r.map(csvCell).join(','))];
  return lines.join('\n') + '\n';
}
