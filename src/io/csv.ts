/** CSV files: writing with RFC 4180 quoting, reading through csv-parse with the loaders' shared settings. */
import { parse } from 'csv-parse/sync';
import { Recist3dError } from '../errors.js';
import { readRegularFile } from './file-access.js';

/** A cell as shown in an error message: quoted, at most 40 characters, with its length when cut. */
export function shownCell(cell: string): string {
  return cell.length <= 40 ? `"${cell}"` : `"${cell.slice(0, 40)}..." (${cell.length} characters)`;
}

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

/**
 * The text of a CSV file (regular files only, see file-access.ts): UTF-8, with or without a byte-order mark,
 * or UTF-16 with a byte-order mark (decoded). Anything else is E_CSV_PARSE naming the encoding found: UTF-32,
 * UTF-16 without a byte-order mark, or bytes that are not UTF-8 (e.g. a Latin-1 spreadsheet export).
 * A missing file is E_FILE_NOT_FOUND "<what> not found"; every error names the file.
 */
export async function readCsvFile(path: string, what: string): Promise<string> {
  return decodeCsvBytes(await readRegularFile(path, what), path, what);
}

/** readCsvFile's decoding of bytes already read; `file` and `what` are only used in messages. */
export function decodeCsvBytes(bytes: Uint8Array, file: string, what: string): string {
  const b = bytes;
  const fail = (why: string): never => {
    throw new Recist3dError('E_CSV_PARSE', `Cannot read ${what}: ${why}; save it as UTF-8 CSV`, { file });
  };
  if (
    (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) ||
    (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff)
  )
    fail('it is UTF-32 encoded (byte-order mark found)');
  if (b[0] === 0xff && b[1] === 0xfe) return new TextDecoder('utf-16le').decode(b.subarray(2));
  if (b[0] === 0xfe && b[1] === 0xff) return new TextDecoder('utf-16be').decode(b.subarray(2));
  const head = b.subarray(0, 4096);
  if (head.includes(0))
    fail('it contains NUL bytes, so it is UTF-16 without a byte-order mark or not a text file');
  const text = new TextDecoder('utf-8').decode(b);
  const bad = text.indexOf('\ufffd');
  // U+FFFD is what the decoder puts in place of bytes that are not UTF-8 (or, rarely, itself in the file)
  if (bad >= 0 && !Buffer.from(b).includes(Buffer.from('\ufffd', 'utf8'))) {
    const line = text.slice(0, bad).split('\n').length;
    fail(`it is not UTF-8 (line ${line} has bytes that are not UTF-8: Latin-1 or Windows-1252?)`);
  }
  return text;
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
