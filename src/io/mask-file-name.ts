/**
 * The file name of a lesion's mask: `<lesion_id>.nii.gz` with every character outside A-Z a-z 0-9 . _ -
 * replaced by `_`. `masks`, `run`, `segment` write it and `eval` and `track` look for it, so two lesion ids
 * that give the same name (`a/1` and `a_1`) would share one file: the manifest loader refuses them.
 */
export function maskFileName(lesionId: string): string {
  return `${lesionId.replace(/[^A-Za-z0-9._-]/g, '_')}.nii.gz`;
}

/**
 * Longest lesion id, in characters: the mask file name (at most this + 7 ASCII bytes) must fit the 255-byte
 * name limit of common file systems.
 */
export const MAX_LESION_ID_LENGTH = 200;
