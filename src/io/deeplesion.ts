import { Recist3dError } from '../errors.js';
import { DEEPLESION_CATEGORIES, type LesionCategory, type Recist, type Split } from '../types/recist.js';
import type { Vec3 } from '../types/volume.js';
import { orderRecistAxes } from '../recist/parse.js';
import { parseCsvRows, readCsvFile, shownCell } from './csv.js';
import { resolveOptions } from '../util/options.js';

/** One row of DeepLesion's DL_info.csv (all 18 official columns, typed). */
export interface DlInfoRow {
  /** e.g. "000001_01_01_109.png". */
  fileName: string;
  patientIndex: number;
  studyIndex: number;
  seriesId: number;
  /** Slice number of the key slice as in the PNG file name (DeepLesion numbering, not 0-based). */
  keySliceIndex: number;
  /** The 8 raw numbers of Measurement_coordinates (long axis end points, then short axis), pixels. */
  measurementCoordinates: number[];
  recist: Recist;
  /** [x1, y1, x2, y2] pixels. */
  boundingBox: [number, number, number, number];
  /** [long, short] axis lengths in pixels. */
  lesionDiametersPx: [number, number];
  /** Normalized_lesion_location [x, y, z] in 0..1. */
  normalizedLocation: Vec3;
  /** Coarse_lesion_type: 1..8, or -1 = unknown. */
  coarseLesionType: number;
  category: LesionCategory;
  possiblyNoisy: boolean;
  /** Slice_range [first, last] inclusive, same numbering as keySliceIndex. */
  sliceRange: [number, number];
  /** Spacing_mm_px_ [x, y, z] mm (z = slice interval). */
  spacingMm: Vec3;
  /** Image_size [width, height] pixels. */
  imageSize: [number, number];
  /** DICOM_windows [min, max] HU. */
  dicomWindow: [number, number];
  patientGender: string;
  /** Patient_age in years; undefined when not given. */
  patientAge?: number | undefined;
  /** Train_Val_Test: 1 train, 2 val, 3 test. */
  trainValTest: 1 | 2 | 3;
  split: Split;
  /** "PPPPPP_SS_RR": the Images_png sub-folder. */
  seriesDir: string;
  /** Unique id: file stem, with _2, _3... for further lesions on the same key slice. */
  lesionId: string;
  /** 1-based CSV line (header = 1). */
  row: number;
}

export const DL_INFO_COLUMNS = [
  'File_name',
  'Patient_index',
  'Study_index',
  'Series_ID',
  'Key_slice_index',
  'Measurement_coordinates',
  'Bounding_boxes',
  'Lesion_diameters_Pixel_',
  'Normalized_lesion_location',
  'Coarse_lesion_type',
  'Possibly_noisy',
  'Slice_range',
  'Spacing_mm_px_',
  'Image_size',
  'DICOM_windows',
  'Patient_gender',
  'Patient_age',
  'Train_Val_Test',
] as const;

export interface DlInfoIssue {
  row: number;
  field: string;
  reason: string;
}

export interface ParseDlInfoOptions {
  /** Skip bad rows (reported through `onIssue`) instead of throwing E_DEEPLESION_ROW. */
  skipInvalid?: boolean;
  /** Called for every bad row when skipInvalid is true. */
  onIssue?: (issue: DlInfoIssue) => void;
  /**
   * Called for every row that was read but changed: Measurement_coordinates whose second axis is the longer
   * one are swapped so that `recist.long` is the long axis (26 of the 4,927 official test-split rows).
   */
  onWarning?: (issue: DlInfoIssue) => void;
}

const DEFAULTS = {
  skipInvalid: false,
  onIssue: () => {},
  onWarning: () => {},
} satisfies Required<ParseDlInfoOptions>;

/**
 * Parses DL_info.csv (or a file with the same columns; extra columns are ignored). Every row is checked;
 * unless skipInvalid, one E_DEEPLESION_ROW error lists every bad row with its row number and field.
 */
export async function parseDlInfo(path: string, options: ParseDlInfoOptions = {}): Promise<DlInfoRow[]> {
  const text = await readCsvFile(path, 'DL_info file');
  return parseDlInfoText(text, path, options);
}

/** parseDlInfo on CSV text; `file` is only used in messages. */
export function parseDlInfoText(text: string, file: string, options: ParseDlInfoOptions = {}): DlInfoRow[] {
  const o = resolveOptions(DEFAULTS, options);
  const { header, rows: records } = parseCsvRows(text, file, 'DL_info');
  const missing = DL_INFO_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length)
    throw new Recist3dError('E_DEEPLESION_ROW', `Missing column(s) ${missing.join(', ')} in the header`, {
      file,
      row: 1,
      field: missing[0],
    });
  const issues: DlInfoIssue[] = [];
  const rows: DlInfoRow[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const row = info.lines;
    try {
      const r = parseRow(record, row);
      const stem = r.fileName.replace(/\.png$/i, '');
      const n = (seen.get(stem) ?? 0) + 1;
      seen.set(stem, n);
      r.lesionId = n === 1 ? stem : `${stem}_${n}`;
      rows.push(r);
      const ordered = orderRecistAxes(r.recist);
      if (ordered.swapped) {
        r.recist = ordered.recist;
        o.onWarning({
          row,
          field: 'Measurement_coordinates',
          reason:
            `the second axis (${ordered.longPx.toFixed(1)} px) is longer than the first (${ordered.shortPx.toFixed(1)} px); ` +
            'swapped so that the longer one is the long axis',
        });
      }
    } catch (e) {
      if (!(e instanceof RowError)) throw e;
      const issue = { row, field: e.field, reason: e.message };
      issues.push(issue);
      if (o.skipInvalid) o.onIssue(issue);
    }
  }
  if (issues.length && !o.skipInvalid) {
    const shown = issues.slice(0, 20).map((i) => `  row ${i.row}, field ${i.field}: ${i.reason}`);
    if (issues.length > 20) shown.push(`  ... and ${issues.length - 20} more`);
    throw new Recist3dError(
      'E_DEEPLESION_ROW',
      `${issues.length} bad row(s) in DL_info:\n${shown.join('\n')}\n`,
      {
        file,
        row: issues[0].row,
        field: issues[0].field,
      },
    );
  }
  return rows;
}

class RowError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

function numbers(rec: Record<string, string>, field: string, count: number): number[] {
  const cell = (rec[field] ?? '').trim();
  const parts = cell
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const vals = parts.map(Number);
  if (parts.length !== count || vals.some((v) => !Number.isFinite(v)))
    throw new RowError(field, `expected ${count} comma-separated numbers, got ${shownCell(cell)}`);
  return vals;
}

function integer(rec: Record<string, string>, field: string, allowed?: number[]): number {
  const cell = (rec[field] ?? '').trim();
  const v = Number(cell);
  if (cell === '' || !Number.isInteger(v))
    throw new RowError(field, `expected an integer, got ${shownCell(cell)}`);
  if (allowed && !allowed.includes(v))
    throw new RowError(field, `expected one of ${allowed.join(', ')}, got ${v}`);
  return v;
}

function parseRow(rec: Record<string, string>, row: number): DlInfoRow {
  const fileName = (rec.File_name ?? '').trim();
  const m = /^(\d+_\d+_\d+)_(\d+)\.png$/i.exec(fileName);
  if (!m) throw new RowError('File_name', `expected PPPPPP_SS_RR_KKK.png, got ${shownCell(fileName)}`);
  const keySliceIndex = integer(rec, 'Key_slice_index');
  const mc = numbers(rec, 'Measurement_coordinates', 8);
  const bb = numbers(rec, 'Bounding_boxes', 4);
  const dia = numbers(rec, 'Lesion_diameters_Pixel_', 2);
  const loc = numbers(rec, 'Normalized_lesion_location', 3);
  const type = integer(rec, 'Coarse_lesion_type', [-1, 1, 2, 3, 4, 5, 6, 7, 8]);
  const noisy = integer(rec, 'Possibly_noisy', [0, 1]);
  const range = numbers(rec, 'Slice_range', 2);
  if (!(range.every(Number.isInteger) && range[0] <= keySliceIndex && keySliceIndex <= range[1]))
    throw new RowError(
      'Slice_range',
      `expected integers a <= Key_slice_index (${keySliceIndex}) <= b, got ${range}`,
    );
  const sp = numbers(rec, 'Spacing_mm_px_', 3);
  sp.forEach((s, k) => {
    if (!(s > 0))
      throw new RowError('Spacing_mm_px_', `expected a positive spacing in position ${k + 1}, got ${s}`);
  });
  const size = numbers(rec, 'Image_size', 2);
  if (!size.every((s) => Number.isInteger(s) && s > 0))
    throw new RowError('Image_size', `expected two positive integers, got ${size}`);
  const win = numbers(rec, 'DICOM_windows', 2);
  if (!(win[0] < win[1]))
    throw new RowError('DICOM_windows', `expected "min, max" HU with min < max, got "${win.join(', ')}"`);
  const tvt = integer(rec, 'Train_Val_Test', [1, 2, 3]) as 1 | 2 | 3;
  const ageCell = (rec.Patient_age ?? '').trim();
  const age = ageCell === '' || /^nan$/i.test(ageCell) ? undefined : Number(ageCell);
  if (age !== undefined && !Number.isFinite(age))
    throw new RowError('Patient_age', `expected a number, got ${shownCell(ageCell)}`);
  return {
    fileName,
    patientIndex: integer(rec, 'Patient_index'),
    studyIndex: integer(rec, 'Study_index'),
    seriesId: integer(rec, 'Series_ID'),
    keySliceIndex,
    measurementCoordinates: mc,
    recist: {
      long: [
        [mc[0], mc[1]],
        [mc[2], mc[3]],
      ],
      short: [
        [mc[4], mc[5]],
        [mc[6], mc[7]],
      ],
    },
    boundingBox: bb as DlInfoRow['boundingBox'],
    lesionDiametersPx: dia as [number, number],
    normalizedLocation: loc as Vec3,
    coarseLesionType: type,
    category: (DEEPLESION_CATEGORIES as Record<number, LesionCategory>)[type],
    possiblyNoisy: noisy === 1,
    sliceRange: range as [number, number],
    spacingMm: sp as Vec3,
    imageSize: size as [number, number],
    dicomWindow: win as [number, number],
    patientGender: (rec.Patient_gender ?? '').trim(),
    patientAge: age,
    trainValTest: tvt,
    split: (['train', 'val', 'test'] as const)[tvt - 1],
    seriesDir: m[1],
    lesionId: '',
    row,
  };
}
