/** Small readers of naturalized (dcmjs) data set values, shared by the DICOM readers and writers. */

/** A content or sequence item of a naturalized data set. */
export type Item = Record<string, unknown>;

/** The items of a sequence: dcmjs gives an array, or a bare object for a one-item sequence. */
export function items(x: unknown): Item[] {
  if (Array.isArray(x)) return x as Item[];
  return x && typeof x === 'object' ? [x as Item] : [];
}

/** The first value of a (possibly multi-valued) attribute as text ('' when absent). */
export function firstText(v: unknown): string {
  return Array.isArray(v) ? String(v[0] ?? '') : String(v ?? '');
}

/** Text made safe for a file name: runs of other characters become "_", no leading or trailing "_". */
export function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
}
