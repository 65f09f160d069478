import { randomUUID } from 'node:crypto';

/**
 * A new globally unique DICOM UID: "2.25." followed by a random UUID as one decimal integer (PS3.5 B.2), so no
 * registered root is needed. At most 44 characters, well under the 64 allowed.
 */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

/** True for a syntactically valid UID: dot-separated numbers without leading zeros, at most 64 characters. */
export function isValidUid(uid: unknown): uid is string {
  return (
    typeof uid === 'string' &&
    uid.length > 0 &&
    uid.length <= 64 &&
    /^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/.test(uid)
  );
}
