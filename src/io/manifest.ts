import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import {
  DEEPLESION_CATEGORIES,
  type LesionCategory,
  type LesionRecord,
  type Split,
} from '../types/recist.js';
import { orderRecistAxes, parseRecist, recistToNumbers } from '../recist/parse.js';
import { csvText, parseCsvRows, readCsvFile, shownCell } from './csv.js';
import { MAX_LESION_ID_LENGTH, maskFileName } from './mask-file-name.js';
import { ManifestError, type ManifestIssue } from './manifest-error.js';
import { checkAgainstImages } from './manifest-images.js';
import { resolveOptions } from '../util/options.js';

export { ManifestError, type ManifestIssue };

export const MANIFEST_COLUMNS = [
  'lesion_id',
  'image',
  'key_slice',
  'recist',
  'category',
  'split',
  'mask',
  'patient_id',
  'study_date',
  'window',
  'track_id',
] as const;
const REQUIRED = ['lesion_id', 'image', 'key_slice', 'recist'] as const;
const SPLITS: readonly Split[] = ['train', 'val', 'test'];

/** Maps a category cell (name, any case, or DeepLesion code -1/1..8; empty = unknown) to a LesionCategory. */
export function parseCategory(cell: string): LesionCategory | undefined {
  const t = cell.trim();
  if (t === '') return 'unknown';
  if (/^-?\d+$/.test(t)) return (DEEPLESION_CATEGORIES as Record<number, LesionCategory>)[Number(t)];
  const s = t.toLowerCase().replace(/[\s-]+/g, '_');
  return (Object.values(DEEPLESION_CATEGORIES) as string[]).includes(s) ? (s as LesionCategory) : undefined;
}

export interface LoadManifestOptions {
  /** Check that image and mask files exist. */
  checkFiles?: boolean;
  /**
   * Also open every image's NIfTI header (not its voxels) and check that key_slice lies inside the volume, the
   * RECIST inside the slice (validateRecist), and the mask on the image grid.
   */
  checkImages?: boolean;
  /**
   * Called once with the rows that loaded but were changed (RECIST axes given short first, so swapped); not
   * called when there are none. Default: printManifestWarnings (a summary on stderr).
   */
  onWarnings?: (file: string, warnings: ManifestIssue[]) => void;
}

const DEFAULTS = {
  checkFiles: true,
  checkImages: false,
  onWarnings: printManifestWarnings,
} satisfies Required<LoadManifestOptions>;

/** Prints manifest warnings on stderr: at most 20 lines, then a count of the rest. */
export function printManifestWarnings(file: string, warnings: ManifestIssue[]): void {
  const lines = warnings.slice(0, 20).map((w) => `  row ${w.row}, field ${w.field}: ${w.reason}`);
  if (warnings.length > 20) lines.push(`  ... and ${warnings.length - 20} more`);
  process.stderr.write(
    `recist3d: warning: ${warnings.length} row(s) of ${file} changed on loading:\n${lines.join('\n')}\n`,
  );
}

/**
 * Reads and validates a lesion manifest CSV (docs/manifest.md). Paths are resolved against the manifest's
 * folder. Every row is checked; if any is bad, one ManifestError (E_MANIFEST_INVALID) lists them all.
 */
export async function loadManifest(path: string, options: LoadManifestOptions = {}): Promise<LesionRecord[]> {
  const o = resolveOptions(DEFAULTS, options);
  const text = await readCsvFile(path, 'Manifest');
  const parsed = parseRows(text, path, o);
  if (o.checkImages) parsed.issues.push(...(await checkAgainstImages(parsed.records)));
  return finish(path, parsed, o);
}

/**
 * loadManifest on CSV text already read, without the checks that open images (`checkImages` is ignored).
 * `path` places relative paths and names the file in errors.
 */
export function parseManifestText(
  text: string,
  path: string,
  options: LoadManifestOptions = {},
): LesionRecord[] {
  const o = resolveOptions(DEFAULTS, options);
  return finish(path, parseRows(text, path, o), o);
}

interface ParsedRows {
  records: LesionRecord[];
  issues: ManifestIssue[];
  warnings: ManifestIssue[];
}

function finish(path: string, p: ParsedRows, o: Required<LoadManifestOptions>): LesionRecord[] {
  p.issues.sort((a, b) => a.row - b.row);
  if (p.issues.length) throw new ManifestError(path, p.issues);
  if (p.records.length === 0)
    throw new ManifestError(path, [
      { row: 1, field: 'lesion_id', reason: 'the manifest has no lesion rows' },
    ]);
  if (p.warnings.length) o.onWarnings(path, p.warnings);
  return p.records;
}

function parseRows(text: string, path: string, o: Required<LoadManifestOptions>): ParsedRows {
  const { header, rows } = parseCsvRows(text, path, 'manifest');
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length)
    throw new ManifestError(
      path,
      missing.map((c) => ({ row: 1, field: c, reason: `required column "${c}" is missing from the header` })),
    );

  const base = dirname(resolve(path));
  const issues: ManifestIssue[] = [];
  const warnings: ManifestIssue[] = [];
  const seen = new Map<string, number>();
  const fileNames = new Map<string, { row: number; lesionId: string }>();
  const out: LesionRecord[] = [];
  for (const { record: r, info } of rows) {
    const row = info.lines;
    const bad = (field: string, reason: string) => issues.push({ row, field, reason });
    const before = issues.length;
    const cell = (k: string) => (r[k] ?? '').trim();

    const lesionId = cell('lesion_id');
    const fileName = lesionId.length <= MAX_LESION_ID_LENGTH ? maskFileName(lesionId) : '';
    const clash = fileNames.get(fileName);
    if (!lesionId) bad('lesion_id', 'empty');
    else if (lesionId.length > MAX_LESION_ID_LENGTH)
      bad(
        'lesion_id',
        `${shownCell(lesionId)} is longer than ${MAX_LESION_ID_LENGTH} characters (its mask file name must fit the file system)`,
      );
    else if (seen.has(lesionId)) bad('lesion_id', `duplicate of row ${seen.get(lesionId)}`);
    else if (clash)
      bad(
        'lesion_id',
        `${shownCell(lesionId)} and ${shownCell(clash.lesionId)} (row ${clash.row}) both give the mask file name ${fileName}; rename one`,
      );
    else {
      seen.set(lesionId, row);
      fileNames.set(fileName, { row, lesionId });
    }

    const image = cell('image');
    const imagePath = image ? resolve(base, image) : '';
    if (!image) bad('image', 'empty');
    else if (o.checkFiles && !existsSync(imagePath)) bad('image', `file not found: ${imagePath}`);

    const ks = cell('key_slice');
    const keySlice = Number(ks);
    if (!(ks !== '' && Number.isSafeInteger(keySlice) && keySlice >= 0))
      bad('key_slice', `expected a non-negative integer (0-based slice index k), got ${shownCell(ks)}`);

    let recist;
    try {
      const ordered = orderRecistAxes(parseRecist(cell('recist')));
      recist = ordered.recist;
      if (ordered.swapped)
        warnings.push({
          row,
          field: 'recist',
          reason:
            `the short axis (${ordered.longPx.toFixed(1)} px) was longer than the long axis (${ordered.shortPx.toFixed(1)} px); ` +
            'the axes were swapped so that the longer one is the long axis',
        });
    } catch (e) {
      bad('recist', (e as Error).message.replace(/ \(field recist\)$/, ''));
    }

    const category = parseCategory(cell('category'));
    if (category === undefined)
      bad(
        'category',
        `unknown category ${shownCell(cell('category'))} (use a name like liver or a DeepLesion code -1, 1..8)`,
      );

    const splitCell = cell('split').toLowerCase();
    if (splitCell && !SPLITS.includes(splitCell as Split))
      bad('split', `expected train, val or test, got ${shownCell(cell('split'))}`);

    const mask = cell('mask');
    const maskPath = mask ? resolve(base, mask) : undefined;
    if (maskPath && o.checkFiles && !existsSync(maskPath)) bad('mask', `file not found: ${maskPath}`);

    let window: [number, number] | undefined;
    const w = cell('window');
    if (w) {
      const parts = w
        .replace(/^\[|\]$/g, '')
        .split(/[\s,;]+/)
        .filter(Boolean)
        .map(Number);
      if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1]))
        bad('window', `expected "min,max" HU with min < max, got ${shownCell(w)}`);
      else window = [parts[0], parts[1]];
    }

    if (issues.length > before || !recist || category === undefined) continue;
    const rec: LesionRecord = { lesionId, imagePath, keySlice, recist, category, row };
    if (splitCell) rec.split = splitCell as Split;
    if (maskPath) rec.maskPath = maskPath;
    if (cell('patient_id')) rec.patientId = cell('patient_id');
    if (cell('study_date')) rec.studyDate = cell('study_date');
    if (cell('track_id')) rec.trackId = cell('track_id');
    if (window) rec.window = window;
    out.push(rec);
  }
  return { records: out, issues, warnings };
}

/** Relative to the manifest's folder when the file lies inside it, else absolute (relative input = to the cwd). */
function relPath(base: string, p: string): string {
  const abs = resolve(p);
  const r = relative(base, abs);
  return r.startsWith('..') || isAbsolute(r) ? abs : r.split(sep).join('/');
}

/** Short decimal text for a coordinate (4 decimals at most). */
function num(x: number): string {
  return String(Math.round(x * 1e4) / 1e4);
}

/** Writes records as a manifest CSV; paths are written relative to the manifest's folder. */
export async function writeManifest(path: string, records: readonly LesionRecord[]): Promise<void> {
  const base = dirname(resolve(path));
  const rows = records.map((r) => [
    r.lesionId,
    relPath(base, r.imagePath),
    String(r.keySlice),
    recistToNumbers(r.recist).map(num).join(','),
    r.category,
    r.split ?? '',
    r.maskPath ? relPath(base, r.maskPath) : '',
    r.patientId ?? '',
    r.studyDate ?? '',
    r.window ? `${r.window[0]},${r.window[1]}` : '',
    r.trackId ?? '',
  ]);
  await mkdir(base, { recursive: true });
  await writeFile(path, csvText(MANIFEST_COLUMNS, rows));
}
