/**
 * Reading and writing DICOM Part 10 files with dcmjs: the one place that turns bytes into a naturalized dataset
 * (attribute keywords as keys) and back, and that maps dcmjs's parse failures to Recist3dErrors naming the file.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { Recist3dError } from '../errors.js';
import { resolveOptions } from '../util/options.js';

// dcmjs logs through loglevel; its validation logger reports private tags with unknown VRs on every read.
dcmjs.log.setLevel('error');
dcmjs.log.getLogger('validation.dcmjs').setLevel('silent');

export const TRANSFER_SYNTAX = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
} as const;

/** Native (uncompressed) transfer syntaxes: PixelData is the raw little-endian frames. */
export const NATIVE_TRANSFER_SYNTAXES: readonly string[] = [
  TRANSFER_SYNTAX.implicitLittle,
  TRANSFER_SYNTAX.explicitLittle,
  TRANSFER_SYNTAX.deflatedExplicitLittle,
];

/** One parsed file. */
export interface DicomFile {
  /** Absolute path it was read from. */
  file: string;
  transferSyntaxUid: string;
  /** Naturalized dataset (keywords as keys). */
  dataset: NaturalDataset;
  /** Naturalized file meta information (group 0002). */
  meta: NaturalDataset;
}

/** Parses Part 10 bytes. Throws E_DICOM_CORRUPT or E_DICOM_TRUNCATED naming `file`. */
export function parseDicom(bytes: Uint8Array, file: string): DicomFile {
  if (bytes.length < 132)
    throw new Recist3dError(
      'E_DICOM_TRUNCATED',
      `File is ${bytes.length} bytes, shorter than the 132-byte DICOM preamble and "DICM" marker`,
      { file },
    );
  if (String.fromCharCode(...bytes.subarray(128, 132)) !== 'DICM')
    throw new Recist3dError('E_DICOM_CORRUPT', 'Not a DICOM Part 10 file (no "DICM" marker at byte 128)', {
      file,
    });
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let dict;
  try {
    dict = dcmjs.data.DicomMessage.readFile(buffer);
  } catch (e) {
    const msg = (e as Error).message;
    const truncated = /past end|more than currently allocated|outside the bounds|out of range/i.test(msg);
    throw new Recist3dError(
      truncated ? 'E_DICOM_TRUNCATED' : 'E_DICOM_CORRUPT',
      truncated ? `File ends inside a data element (${msg})` : `Cannot parse the DICOM data set: ${msg}`,
      { file },
      { cause: e },
    );
  }
  const meta = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.meta);
  const transferSyntaxUid = String(meta.TransferSyntaxUID ?? '')
    .replace(/\0/g, '')
    .trim();
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
  return { file, transferSyntaxUid, dataset, meta };
}

/** Reads and parses a Part 10 file (see parseDicom). */
export async function readDicomFile(file: string): Promise<DicomFile> {
  return parseDicom(await readFile(file), file);
}

export interface WriteDicomOptions {
  /** Transfer syntax of the written file (the data set must already match it). */
  transferSyntaxUid?: string;
}

const WRITE_DEFAULTS = {
  transferSyntaxUid: TRANSFER_SYNTAX.explicitLittle,
} satisfies Required<WriteDicomOptions>;

/** The Implementation Class UID recist3d writes in the file meta information (a fixed 2.25 UUID UID). */
export const IMPLEMENTATION_CLASS_UID = '2.25.223417620467843596718463004437298114716';

/** Encodes a naturalized data set as Part 10 bytes (preamble, file meta information, data set). */
export function encodeDicom(dataset: NaturalDataset, options: WriteDicomOptions = {}): Uint8Array {
  const o = resolveOptions(WRITE_DEFAULTS, options);
  const version = new Uint8Array([0, 1]);
  const meta = {
    FileMetaInformationVersion: version.buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: o.transferSyntaxUid,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: 'RECIST3D',
  };
  const dict = new dcmjs.data.DicomDict(dcmjs.data.DicomMetaDictionary.denaturalizeDataset(meta));
  const { _meta: _m, ...body } = dataset;
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(body);
  return new Uint8Array(dict.write());
}

/** Writes a data set as a Part 10 file (creating its folder). */
export async function writeDicomFile(
  path: string,
  dataset: NaturalDataset,
  options: WriteDicomOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, encodeDicom(dataset, options));
}
