/**
 * Decoding one slice's pixel data to rescaled values (Hounsfield units for CT): native little-endian frames as
 * they are, compressed frames through src/dicom/codecs.ts. Rescale Slope and Intercept are applied; stored bits
 * beyond Bits Stored are masked or sign-extended.
 */
import { Recist3dError } from '../errors.js';
import { COMPRESSED_TRANSFER_SYNTAXES, decodeCompressedFrame, isSupportedCompressed } from './codecs.js';
import { NATIVE_TRANSFER_SYNTAXES, type DicomFile } from './part10.js';

/** Transfer syntaxes whose pixel data recist3d decodes. */
export const SUPPORTED_TRANSFER_SYNTAXES: readonly string[] = [
  ...NATIVE_TRANSFER_SYNTAXES,
  ...Object.values(COMPRESSED_TRANSFER_SYNTAXES),
];

/** The pixel-module attributes a slice must have, read and checked. */
export interface PixelModule {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  slope: number;
  intercept: number;
}

function numberAttr(f: DicomFile, key: string, fallback?: number): number {
  const raw = f.dataset[key];
  const v = Array.isArray(raw) ? raw[0] : raw;
  const n = v === undefined || v === null || v === '' ? fallback : Number(v);
  if (n === undefined || !Number.isFinite(n))
    throw new Recist3dError(
      'E_DICOM_ATTRIBUTE',
      `Missing or invalid ${key} (${raw === undefined ? 'absent' : JSON.stringify(raw)}): the image pixel module is incomplete`,
      { file: f.file, field: key },
    );
  return n;
}

/** Reads and checks the Image Pixel module (grayscale, one sample, one frame, 8 or 16 bits). */
export function pixelModule(f: DicomFile): PixelModule {
  if (f.dataset.PixelData === undefined)
    throw new Recist3dError(
      'E_DICOM_ATTRIBUTE',
      'No PixelData (7FE0,0010): the image pixel module is missing',
      { file: f.file, field: 'PixelData' },
    );
  const samples = numberAttr(f, 'SamplesPerPixel', 1);
  const photometric = String(f.dataset.PhotometricInterpretation ?? 'MONOCHROME2').trim();
  if (samples !== 1 || !photometric.startsWith('MONOCHROME'))
    throw new Recist3dError(
      'E_DICOM_UNSUPPORTED',
      `Only grayscale images are supported (SamplesPerPixel ${samples}, PhotometricInterpretation ${photometric})`,
      { file: f.file },
    );
  const frames = numberAttr(f, 'NumberOfFrames', 1);
  if (frames !== 1)
    throw new Recist3dError(
      'E_DICOM_UNSUPPORTED',
      `Multi-frame images (NumberOfFrames ${frames}) are not supported: export the series as single-frame slices`,
      { file: f.file, field: 'NumberOfFrames' },
    );
  const bitsAllocated = numberAttr(f, 'BitsAllocated');
  if (bitsAllocated !== 8 && bitsAllocated !== 16)
    throw new Recist3dError('E_DICOM_UNSUPPORTED', `BitsAllocated ${bitsAllocated} is not 8 or 16`, {
      file: f.file,
      field: 'BitsAllocated',
    });
  return {
    rows: numberAttr(f, 'Rows'),
    columns: numberAttr(f, 'Columns'),
    bitsAllocated,
    bitsStored: numberAttr(f, 'BitsStored', bitsAllocated),
    signed: numberAttr(f, 'PixelRepresentation', 0) === 1,
    slope: numberAttr(f, 'RescaleSlope', 1),
    intercept: numberAttr(f, 'RescaleIntercept', 0),
  };
}

/** 8-bit samples as 16-bit little-endian ones. */
function widen(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 * b.length);
  for (let x = 0; x < b.length; x++) out[2 * x] = b[x];
  return out;
}

/** Stored values of a native frame as signed integers, honouring Bits Stored. */
function nativeValues(f: DicomFile, pm: PixelModule, bytes: Uint8Array): Int32Array {
  const n = pm.rows * pm.columns;
  const expected = (n * pm.bitsAllocated) / 8;
  if (bytes.byteLength < expected)
    throw new Recist3dError(
      'E_DICOM_TRUNCATED',
      `PixelData has ${bytes.byteLength} bytes, ${expected} expected for ${pm.columns}x${pm.rows} ` +
        `${pm.bitsAllocated}-bit pixels: the file was cut short`,
      { file: f.file, field: 'PixelData' },
    );
  const out = new Int32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const mask = pm.bitsStored >= 32 ? -1 : (1 << pm.bitsStored) - 1;
  const signBit = 1 << (pm.bitsStored - 1);
  for (let x = 0; x < n; x++) {
    let v = (pm.bitsAllocated === 16 ? view.getUint16(2 * x, true) : bytes[x]) & mask;
    if (pm.signed && v & signBit) v -= mask + 1;
    out[x] = v;
  }
  return out;
}

/**
 * Decodes the slice's pixels to rescaled values (slope * stored + intercept), row by row (column index fastest),
 * i.e. value at (column i, row j) = out[i + columns * j]. Throws E_DICOM_UNSUPPORTED for a transfer syntax it
 * cannot decode, E_DICOM_TRUNCATED / E_DICOM_CORRUPT for damaged pixel data, naming the file.
 */
export async function decodeSlice(f: DicomFile, pm: PixelModule = pixelModule(f)): Promise<Float32Array> {
  const ts = f.transferSyntaxUid;
  const pd = f.dataset.PixelData;
  const parts = (Array.isArray(pd) ? pd : [pd]).filter(
    (x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x),
  );
  if (parts.length === 0)
    throw new Recist3dError('E_DICOM_ATTRIBUTE', 'PixelData is empty', { file: f.file, field: 'PixelData' });
  const view = (x: ArrayBuffer | ArrayBufferView) =>
    x instanceof ArrayBuffer ? new Uint8Array(x) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  // a single-frame image: every fragment belongs to its one frame
  const bytes = parts.length === 1 ? view(parts[0]) : Buffer.concat(parts.map(view));
  let stored: Int32Array;
  if (NATIVE_TRANSFER_SYNTAXES.includes(ts)) stored = nativeValues(f, pm, bytes);
  else if (isSupportedCompressed(ts)) {
    let raw = await decodeCompressedFrame(ts, bytes, pm, f.file);
    if (pm.bitsAllocated === 16 && raw.length === pm.rows * pm.columns) raw = widen(raw); // 8-bit stream
    stored = nativeValues(f, pm, raw);
  } else
    throw new Recist3dError(
      'E_DICOM_UNSUPPORTED',
      `Transfer syntax ${ts || '(none)'} is not supported; supported: ${SUPPORTED_TRANSFER_SYNTAXES.join(', ')} ` +
        '(convert with e.g. dcmdjpeg or gdcmconv --raw)',
      { file: f.file, field: 'TransferSyntaxUID' },
    );
  const out = new Float32Array(stored.length);
  for (let x = 0; x < stored.length; x++) out[x] = pm.slope * stored[x] + pm.intercept;
  return out;
}
