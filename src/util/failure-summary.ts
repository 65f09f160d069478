/** Short text summaries of per-lesion failures for errors and logs. */

/** What summarizeFailures needs of a failure. */
export interface FailureLike {
  record: { lesionId: string; row: number };
  error: { code: string; message: string };
}

/**
 * "3 E_NIFTI_VALUES, 1 E_RECIST_OUTSIDE; first: <message>" for a list of lesion failures (counts by code, most
 * frequent first, then the first `examples` messages).
 */
export function summarizeFailures(failures: readonly FailureLike[], examples = 2): string {
  const byCode = new Map<string, number>();
  for (const f of failures) byCode.set(f.error.code, (byCode.get(f.error.code) ?? 0) + 1);
  const counts = [...byCode]
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${n} ${c}`)
    .join(', ');
  const shown = failures.slice(0, examples).map((f) => f.error.message);
  return shown.length ? `${counts}; ${shown.join('; ')}` : counts;
}
