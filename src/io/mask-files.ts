/** Where a lesion's mask file goes: one name per lesion id, shared by every command that writes or reads masks. */

/** The file name a lesion's mask is written to (and `eval` looks for). */
export function maskFileName(lesionId: string): string {
  return `${lesionId.replace(/[^A-Za-z0-9._-]/g, '_')}.nii.gz`;
}
