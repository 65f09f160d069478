/**
 * Integrity check of a zip archive (a libtorch checkpoint is one): every entry of the central directory is
 * located through its local header and its CRC-32 recomputed. libtorch's own loader does not check the CRCs,
 * so a checkpoint with part of a tensor overwritten would otherwise load and predict garbage.
 */
import { inflateRawSync, crc32 } from 'node:zlib';

/** What is wrong with an archive, or undefined when every entry's CRC matches. */
export function zipProblem(buf: Buffer): string | undefined {
  const eocd = findEocd(buf);
  if (eocd < 0) return 'no zip end-of-central-directory record (truncated, or not a zip archive)';
  let entries = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (entries === 0xffff || cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    // zip64: the locator just before the EOCD points at the zip64 end record
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) return 'zip64 locator missing';
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (z64 + 56 > buf.length || buf.readUInt32LE(z64) !== 0x06064b50) return 'zip64 end record missing';
    entries = Number(buf.readBigUInt64LE(z64 + 32));
    cdSize = Number(buf.readBigUInt64LE(z64 + 40));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  if (cdOffset + cdSize > buf.length)
    return 'the central directory lies beyond the end of the file (truncated)';
  let p = cdOffset;
  for (let e = 0; e < entries; e++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50)
      return `central directory entry ${e + 1} is damaged`;
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 sizes and offset live in extra field 0x0001, in this order, for the fields set to 0xffffffff
    for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
      const id = buf.readUInt16LE(x);
      const len = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const next = () => Number(buf.readBigUInt64LE((q += 8) - 8));
        if (size === 0xffffffff) size = next();
        if (compSize === 0xffffffff) compSize = next();
        if (local === 0xffffffff) local = next();
      }
      x += 4 + len;
    }
    p += 46 + nameLen + extraLen + commentLen;
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50)
      return `entry ${name}: local header damaged`;
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + compSize > buf.length) return `entry ${name}: data beyond the end of the file (truncated)`;
    let data = buf.subarray(start, start + compSize);
    if (method === 8) {
      try {
        data = inflateRawSync(data);
      } catch (e) {
        return `entry ${name}: cannot inflate (${(e as Error).message})`;
      }
    } else if (method !== 0) return `entry ${name}: unsupported compression method ${method}`;
    if (data.length !== size) return `entry ${name}: ${data.length} bytes, the directory says ${size}`;
    if (crc32(data) !== crc) return `entry ${name}: CRC-32 mismatch (the data was changed or damaged)`;
  }
  return undefined;
}

/** Offset of the end-of-central-directory record, searched from the end (it may carry a comment). */
function findEocd(buf: Buffer): number {
  for (let p = buf.length - 22; p >= Math.max(0, buf.length - 22 - 0xffff); p--)
    if (buf.readUInt32LE(p) === 0x06054b50) return p;
  return -1;
}
