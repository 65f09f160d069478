import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Recist3dError } from '../errors.js';
import {
  DEEPLESION_CATEGORIES,
  type LesionCategory,
  type LesionRecord,
  type Split,
} from '../types/recist.js';
import { parseRecist, recistToNumbers } from '../recist/parse.js';
import { validateRecist } from '../recist/validate.js';
import { affineFromGrid, affinesClose } from '../geometry/affine.js';
import type { Volume } from '../types/volume.js';
import { csvText, parseCsvRows, readCsvFile } from './csv.js';
import { readNiftiHeader } from './nifti.js';
import { resolveOptions } from '../util/options.js';

/** One problem found in one manifest row. */
export interface ManifestIssue {
  /** 1-based CSV line (header = 1). */
  row: number;
  field: string;
  reason: string;
}

/** E_MANIFEST_INVALID with every bad row listed in `issues` (and in the message). */
export class ManifestError extends Recist3dError {
  readonly issues: ManifestIssue[];
  constructor(file: string, issues: ManifestIssue[]) {
    const lines = issues.slice(0, 50).map((i) => `  row ${i.row}, field ${i.field}: ${i.reason}`);
    if (issues.length > 50) lines.push(`  ... and ${issues.length - 50} more (see error.issues)`);
    super(
      'E_MANIFEST_INVALID',
      `${issues.length} problem(s) in the lesion manifest:\n${lines.join('\n')}\n`,
      {
        file,
      },
    );
    this.name = 'ManifestError';
    this.issues = issues;
  }
}

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
}

const DEFAULTS = { checkFiles: true, checkImages: false } satisfies Required<LoadManifestOptions>;

/**
 * Reads and validates a lesion manifest CSV (docs/manifest.md). Paths are resolved against the manifest's
 * folder. Every row is checked; if any is bad, one ManifestError (E_MANIFEST_INVALID) lists them all.
 */
export async function loadManifest(path: string, options: LoadManifestOptions = {}): Promise<LesionRecord[]> {
  const o = resolveOptions(DEFAULTS, options);
  const text = await readCsvFile(path, 'Manifest not found');
  const { header, rows } = parseCsvRows(text, path, 'manifest');
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length)
    throw new ManifestError(
      path,
      missing.map((c) => ({ row: 1, field: c, reason: `required column "${c}" is missing from the header` })),
    );

  const base = dirname(resolve(path));
  const issues: ManifestIssue[] = [];
  const seen = new Map<string, number>();
  const out: LesionRecord[] = [];
  for (const { record: r, info } of rows) {
    const row = info.lines;
    const bad = (field: string, reason: string) => issues.push({ row, field, reason });
    const before = issues.length;
    const cell = (k: string) => (r[k] ?? '').trim();

    const lesionId = cell('lesion_id');
    if (!lesionId) bad('lesion_id', 'empty');
    else if (seen.has(lesionId)) bad('lesion_id', `duplicate of row ${seen.get(lesionId)}`);
    else seen.set(lesionId, row);

    const image = cell('image');
    const imagePath = image ? resolve(base, image) : '';
    if (!image) bad('image', 'empty');
    else if (o.checkFiles && !existsSync(imagePath)) bad('image', `file not found: ${imagePath}`);

    const ks = cell('key_slice');
    const keySlice = Number(ks);
    if (!(ks !== '' && Number.isInteger(keySlice) && keySlice >= 0))
      bad('key_slice', `expected a non-negative integer (0-based slice index k), got "${ks}"`);

    let recist;
    try {
      recist = parseRecist(cell('recist'));
    } catch (e) {
      bad('recist', (e as Error).message.replace(/ \(field recist\)$/, ''));
    }

    const category = parseCategory(cell('category'));
    if (category === undefined)
      bad(
        'category',
        `unknown category "${cell('category')}" (use a name like liver or a DeepLesion code -1, 1..8)`,
      );

    const splitCell = cell('split').toLowerCase();
    if (splitCell && !SPLITS.includes(splitCell as Split))
      bad('split', `expected train, val or test, got "${cell('split')}"`);

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
        bad('window', `expected "min,max" HU with min < max, got "${w}"`);
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
  if (o.checkImages) issues.push(...(await checkAgainstImages(out)));
  issues.sort((a, b) => a.row - b.row);
  if (issues.length) throw new ManifestError(path, issues);
  if (out.length === 0)
    throw new ManifestError(path, [
      { row: 1, field: 'lesion_id', reason: 'the manifest has no lesion rows' },
    ]);
  return out;
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

/** Header-level checks of each record against its image (and mask) grid, 8 files at a time. */
async function checkAgainstImages(records: LesionRecord[]): Promise<ManifestIssue[]> {
  const issues: ManifestIssue[] = [];
  const headers = new Map<string, Promise<Omit<Volume, 'data'>>>();
  const header = (p: string) => {
    if (!headers.has(p)) headers.set(p, readNiftiHeader(p));
    return headers.get(p)!;
  };
  const check = async (r: LesionRecord) => {
    const bad = (field: string, reason: string) => issues.push({ row: r.row, field, reason });
    let img;
    try {
      img = await header(r.imagePath);
    } catch (e) {
      bad('image', (e as Error).message);
      return;
    }
    if (r.keySlice >= img.size[2])
      bad('key_slice', `slice ${r.keySlice} is beyond the ${img.size[2]} slices of the image`);
    try {
      validateRecist(r.recist, img.size, img.spacingMm);
    } catch (e) {
      bad('recist', (e as Error).message.replace(/ \(field recist\)$/, ''));
    }
    if (!r.maskPath) return;
    try {
      const m = await header(r.maskPath);
      if (
        m.size.some((s, a) => s !== img.size[a]) ||
        !affinesClose(affineFromGrid(m), affineFromGrid(img), 1e-3)
      )
        bad('mask', `mask grid ${m.size.join('x')} differs from the image grid ${img.size.join('x')}`);
    } catch (e) {
      bad('mask', (e as Error).message);
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < records.length) await check(records[next++]);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return issues;
}
