/**
 * One error base class with stable codes. Every error the library throws on purpose is a
 * `Recist3dError`; `code` never changes meaning between versions, so callers may switch on it.
 */
export type ErrorCode =
  // native engine
  | 'E_NATIVE_MISSING'
  | 'E_NATIVE_SHAPE'
  | 'E_NATIVE_ARG'
  | 'E_NATIVE_TORCH'
  | 'E_NATIVE_OOM'
  | 'E_NATIVE_OPENCV'
  | 'E_NATIVE_IO'
  | 'E_NATIVE_DISPOSED'
  | 'E_NATIVE_DEVICE'
  | 'E_NATIVE_UNKNOWN'
  // input files and formats
  | 'E_FILE_NOT_FOUND'
  | 'E_FILE_UNREADABLE'
  | 'E_NIFTI_CORRUPT'
  | 'E_NIFTI_TRUNCATED'
  | 'E_NIFTI_UNSUPPORTED'
  | 'E_NIFTI_VALUES'
  | 'E_PNG_CORRUPT'
  | 'E_CSV_PARSE'
  | 'E_CSV_ROW'
  | 'E_MANIFEST_INVALID'
  | 'E_DEEPLESION_ROW'
  // DICOM (src/dicom/)
  | 'E_DICOM_CORRUPT'
  | 'E_DICOM_TRUNCATED'
  | 'E_DICOM_UNSUPPORTED'
  | 'E_DICOM_ATTRIBUTE'
  | 'E_DICOM_SERIES'
  | 'E_DICOM_SR'
  | 'E_DICOM_REFERENCE'
  | 'E_DICOM_EXPORT'
  // geometry and RECIST
  | 'E_GEOMETRY'
  | 'E_SPACING_INVALID'
  | 'E_RECIST_DEGENERATE'
  | 'E_RECIST_OUTSIDE'
  | 'E_RECIST_INVALID'
  | 'E_MASK_EMPTY'
  | 'E_GRID_MISMATCH'
  // models, training and pipeline
  | 'E_CHECKPOINT'
  | 'E_CONFIG'
  | 'E_PIPELINE'
  | 'E_USAGE'
  // super-resolution (src/sr/): its training images are missing or unreadable
  | 'E_SR_DATA'
  // distributed jobs (src/model/dist-env.ts, process-group.ts)
  | 'E_DIST_ENV'
  | 'E_DIST_TIMEOUT'
  | 'E_DIST'
  // output folders
  | 'E_OUTPUT_INVALID'
  | 'E_OUTPUT_LOCKED';

export interface ErrorContext {
  /** File the problem was found in, when there is one. */
  file?: string | undefined;
  /** 1-based row number (header = row 1) for CSV inputs. */
  row?: number | undefined;
  /** Field or column name. */
  field?: string | undefined;
  /** Lesion the problem belongs to. */
  lesionId?: string | undefined;
}

export class Recist3dError extends Error {
  readonly code: ErrorCode;
  readonly context: ErrorContext;
  /** The message without the context suffix (for errors that add to it). */
  readonly reason: string;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message + formatContext(context), options);
    this.name = 'Recist3dError';
    this.code = code;
    this.context = context;
    this.reason = message;
  }
}

function formatContext(c: ErrorContext): string {
  const parts: string[] = [];
  if (c.field !== undefined) parts.push(`field ${c.field}`);
  if (c.row !== undefined) parts.push(`row ${c.row}`);
  if (c.lesionId !== undefined) parts.push(`lesion ${c.lesionId}`);
  if (c.file !== undefined) parts.push(c.file);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Type guard that also narrows by code. */
export function isRecist3dError(e: unknown, code?: ErrorCode): e is Recist3dError {
  return e instanceof Recist3dError && (code === undefined || e.code === code);
}

/** Any error as a Recist3dError carrying the lesion's context. */
export function asLesionError(
  e: unknown,
  record: { lesionId: string; row?: number | undefined },
): Recist3dError {
  if (isRecist3dError(e)) {
    if (e.context.lesionId) return e;
    // the message already ends with " (context)"; drop it so the new context is not printed twice
    const base = Object.keys(e.context).length > 0 ? e.message.replace(/ \([^()]*\)$/, '') : e.message;
    return new Recist3dError(
      e.code,
      base,
      { ...e.context, lesionId: record.lesionId, row: record.row },
      { cause: e },
    );
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new Recist3dError(
    'E_PIPELINE',
    `Unexpected failure: ${msg}`,
    { lesionId: record.lesionId, row: record.row },
    { cause: e },
  );
}
