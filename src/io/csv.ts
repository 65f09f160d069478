/** CSV files: writing with RFC 4180 quoting, reading through csv-parse with the loaders' shared settings. */
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { Recist3dError } from '../errors.js';

/** RFC 4180 cell: quoted when it holds a comma, quote or newline. */
export function csvCell(v: unknown): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A number cell with `digits` decimals; empty when the value is missing or not finite. */
export function fixedCell(v: number | undefined, digits: number): string {
  return v === undefined || !Number.isFinite(v) ? '' : v.toFixed(digits);
}

/**
 * CSV text: the header line joined as given (column names need no quoting), then one line per row with every
 * cell through `csvCell`, and a final newline.
 */
export function csvText(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header.join(','), ...rows.map((r) => r.map(csvCell).join(','))];
  return lines.join('\n') + '\n';
}

/** One parsed CSV row keyed by the trimmed header, with csv-parse's line info (`info.lines` is 1-based). */
export interface CsvRow {
  record: Record<string, string>;
  info: { lines: number };
}

/** The text of a CSV file; a missing file is E_FILE_NOT_FOUND with `notFoundMessage`, other errors pass through. */
export async function readCsvFile(path: string, notFoundMessage: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Recist3dError('E_FILE_NOT_FOUND', notFoundMessage, { file: path });
    throw e;
  }
}

/**
 * Parses CSV text with a header line (BOM, blank lines and cell whitespace dropped, ragged rows allowed).
 * A syntax error is E_CSV_PARSE "Cannot parse <what> CSV: ..." naming `file`. Header names are trimmed.
 */
export function parseCsvRows(text: string, file: string, what: string): { header: string[]; rows: CsvRow[] } {
  let header: string[] = [];
  let rows: CsvRow[];
  try {
    rows = parse(text, {
      columns: (h: string[]) => (header = h.map((c) => c.trim())),
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      relax_column_count: true,
    });
  } catch (e) {
    throw new Recist3dError(
      'E_CSV_PARSE',
      `Cannot parse ${what} CSV: ${(e as Error).message}`,
      { file },
      { cause: e },
    );
  }
  return { header, rows };
}
