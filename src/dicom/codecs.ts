/**
 * Decoders of compressed (encapsulated) frames to little-endian stored values, the layout of native pixel
 * data: JPEG 2000 (OpenJPEG) and JPEG-LS (CharLS), both compiled to WebAssembly by the Cornerstone codecs and
 * run in Node; JPEG Lossless (process 14, with or without selection value 1) with jpeg-lossless-decoder-js;
 * RLE Lossless (PS3.5 Annex G, a few lines of PackBits, for which no maintained standalone package exists).
 */
import charlsFactory, { type CharlsModule } from '@cornerstonejs/codec-charls/decodewasmjs';
import openJpegFactory, { type OpenJpegModule } from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import { Decoder as JpegLosslessDecoder } from 'jpeg-lossless-decoder-js';
import { Recist3dError } from '../errors.js';

export const COMPRESSED_TRANSFER_SYNTAXES = {
  jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  jpeg2000: '1.2.840.10008.1.2.4.91',
  jpegLossless: '1.2.840.10008.1.2.4.57',
  jpegLosslessSv1: '1.2.840.10008.1.2.4.70',
  jpegLsLossless: '1.2.840.10008.1.2.4.80',
  jpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  rle: '1.2.840.10008.1.2.5',
} as const;

const T = COMPRESSED_TRANSFER_SYNTAXES;
const quiet = { print: () => {}, printErr: () => {} }; // the codecs print "[INFO]" lines per frame

let openJpeg: Promise<OpenJpegModule> | undefined;
let charls: Promise<CharlsModule> | undefined;

/** What the frame must decode to. */
export interface FrameShape {
  rows: number;
  columns: number;
  bitsAllocated: number;
}

function checkShape(
  file: string,
  what: string,
  got: { width: number; height: number; components: number },
  s: FrameShape,
) {
  if (got.width !== s.columns || got.height !== s.rows || got.components !== 1)
    throw new Recist3dError(
      'E_DICOM_CORRUPT',
      `${what} frame is ${got.width}x${got.height}x${got.components}, the header says ${s.columns}x${s.rows}x1`,
      { file, field: 'PixelData' },
    );
}

function corrupt(file: string, what: string, e: unknown): Recist3dError {
  const msg = e instanceof Error ? e.message : String(e);
  return new Recist3dError('E_DICOM_CORRUPT', `${what} pixel data cannot be decoded (${msg})`, {
    file,
    field: 'PixelData',
  });
}

/** Little-endian bytes of 8- or 16-bit samples from a typed array. */
function bytesOf(a: Uint8Array | Uint16Array | Int16Array): Uint8Array {
  if (a instanceof Uint8Array) return a;
  const out = new Uint8Array(a.length * 2);
  const v = new DataView(out.buffer);
  for (let x = 0; x < a.length; x++) v.setUint16(2 * x, a[x] & 0xffff, true);
  return out;
}

/** The interface both Cornerstone WebAssembly decoders (OpenJPEG, CharLS) share. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): { width: number; height: number; componentCount: number };
  delete(): void;
}

function wasmDecode(
  dec: WasmDecoder,
  what: string,
  encoded: Uint8Array,
  s: FrameShape,
  file: string,
): Uint8Array {
  try {
    dec.getEncodedBuffer(encoded.length).set(encoded);
    try {
      dec.decode();
    } catch (e) {
      throw corrupt(file, what, e);
    }
    const info = dec.getFrameInfo();
    checkShape(file, what, { width: info.width, height: info.height, components: info.componentCount }, s);
    return dec.getDecodedBuffer().slice(); // copy out of the WebAssembly heap before delete()
  } finally {
    dec.delete();
  }
}

function jpegLossless(encoded: Uint8Array, s: FrameShape, file: string): Uint8Array {
  let out: Uint8Array | Uint16Array;
  try {
    const buf = encoded.buffer.slice(
      encoded.byteOffset,
      encoded.byteOffset + encoded.byteLength,
    ) as ArrayBuffer;
    out = new JpegLosslessDecoder().decode(buf, 0, buf.byteLength, s.bitsAllocated / 8);
  } catch (e) {
    throw corrupt(file, 'JPEG Lossless', e);
  }
  if (out.length !== s.rows * s.columns)
    throw new Recist3dError(
      'E_DICOM_CORRUPT',
      `JPEG Lossless frame has ${out.length} samples, the header says ${s.columns}x${s.rows}`,
      { file, field: 'PixelData' },
    );
  return bytesOf(out);
}

/** RLE Lossless: a 64-byte header (segment count, 15 offsets), one PackBits segment per byte plane, MSB first. */
function rle(encoded: Uint8Array, s: FrameShape, file: string): Uint8Array {
  const n = s.rows * s.columns;
  const planes = s.bitsAllocated / 8;
  const bad = (why: string) =>
    new Recist3dError('E_DICOM_CORRUPT', `RLE pixel data ${why}`, { file, field: 'PixelData' });
  if (encoded.length < 64) throw bad('is shorter than its 64-byte header');
  const v = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const segments = v.getUint32(0, true);
  if (segments !== planes)
    throw bad(`has ${segments} segments, ${planes} expected for ${s.bitsAllocated}-bit pixels`);
  const out = new Uint8Array(n * planes);
  for (let seg = 0; seg < segments; seg++) {
    const start = v.getUint32(4 + 4 * seg, true);
    const end = seg + 1 < segments ? v.getUint32(8 + 4 * seg, true) : encoded.length;
    const byteInSample = planes - 1 - seg; // segment 0 holds the most significant bytes
    let p = start;
    let x = 0;
    while (p < end && x < n) {
      const h = (encoded[p++] << 24) >> 24;
      if (h >= 0) {
        for (let c = 0; c <= h && x < n; c++) out[planes * x++ + byteInSample] = encoded[p++];
      } else if (h !== -128) {
        const b = encoded[p++];
        for (let c = 0; c <= -h && x < n; c++) out[planes * x++ + byteInSample] = b;
      }
    }
    if (x < n) throw bad(`segment ${seg + 1} ends after ${x} of ${n} pixels: the file was cut short`);
  }
  return out;
}

/** True when recist3d can decode frames of this transfer syntax. */
export function isSupportedCompressed(ts: string): boolean {
  return (Object.values(T) as string[]).includes(ts);
}

/**
 * Decodes one compressed frame to little-endian stored values (8 or 16 bits per sample), the layout of native
 * pixel data; throws E_DICOM_CORRUPT naming the file when the frame is damaged.
 */
export async function decodeCompressedFrame(
  ts: string,
  encoded: Uint8Array,
  shape: FrameShape,
  file: string,
): Promise<Uint8Array> {
  switch (ts) {
    case T.jpeg2000Lossless:
    case T.jpeg2000:
      return wasmDecode(
        new (await (openJpeg ??= openJpegFactory(quiet))).J2KDecoder(),
        'JPEG 2000',
        encoded,
        shape,
        file,
      );
    case T.jpegLsLossless:
    case T.jpegLsNearLossless:
      return wasmDecode(
        new (await (charls ??= charlsFactory(quiet))).JpegLSDecoder(),
        'JPEG-LS',
        encoded,
        shape,
        file,
      );
    case T.jpegLossless:
    case T.jpegLosslessSv1:
      return jpegLossless(encoded, shape, file);
    case T.rle:
      return rle(encoded, shape, file);
  }
  throw new Recist3dError('E_DICOM_UNSUPPORTED', `Transfer syntax ${ts} has no decoder`, { file });
}
