/**
 * Types for the DICOM libraries that ship none: the part of dcmjs that src/dicom uses, and the codecs.
 * dcmjs data sets are "naturalized": attribute keywords as keys, sequences as arrays of data sets, PixelData as
 * an array of ArrayBuffers (one per frame or fragment when encapsulated).
 */
declare module 'dcmjs' {
  export type NaturalDataset = Record<string, unknown> & {
    _vrMap?: Record<string, string>;
    _meta?: Record<string, unknown>;
  };
  export interface DicomDict {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
    write(options?: { allowInvalidVRLength?: boolean }): ArrayBuffer;
  }
  export interface DcmjsLogger {
    setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  }
  export interface SegmentationDerivation {
    dataset: NaturalDataset;
    setNumberOfFrames(n: number): void;
    addSegmentFromLabelmap(
      segment: Record<string, unknown>,
      labelmaps: Uint8Array[],
      segmentIndexInLabelmap: number,
      referencedFrameNumbers: number[],
    ): void;
    bitPackPixelData(): void;
  }
  const dcmjs: {
    data: {
      DicomMessage: {
        readFile(
          buffer: ArrayBuffer,
          options?: { ignoreErrors?: boolean; untilTag?: string | null },
        ): DicomDict;
      };
      DicomMetaDictionary: {
        naturalizeDataset(d: Record<string, unknown>): NaturalDataset;
        denaturalizeDataset(d: Record<string, unknown>): Record<string, unknown>;
        namifyDataset(d: Record<string, unknown>): Record<string, unknown>;
      };
      DicomDict: new (meta: Record<string, unknown>) => DicomDict;
      BitArray: {
        pack(pixels: Uint8Array): Uint8Array;
        unpack(packed: Uint8Array | ArrayBuffer): Uint8Array;
      };
    };
    derivations: {
      Segmentation: new (
        datasets: NaturalDataset[],
        options?: Record<string, unknown>,
      ) => SegmentationDerivation;
    };
    normalizers: {
      Normalizer: { normalizeToDataset(datasets: NaturalDataset[]): NaturalDataset };
    };
    log: DcmjsLogger & { getLogger(name: string): DcmjsLogger };
  };
  export default dcmjs;
}

declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  export interface J2KDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    decode(): void;
    getDecodedBuffer(): Uint8Array;
    getFrameInfo(): {
      width: number;
      height: number;
      bitsPerSample: number;
      componentCount: number;
      isSigned: boolean;
    };
    delete(): void;
  }
  export interface OpenJpegModule {
    J2KDecoder: new () => J2KDecoder;
  }
  const factory: (options?: {
    print?: (s: string) => void;
    printErr?: (s: string) => void;
  }) => Promise<OpenJpegModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-charls/decodewasmjs' {
  export interface JpegLSDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    decode(): void;
    getDecodedBuffer(): Uint8Array;
    getFrameInfo(): { width: number; height: number; bitsPerSample: number; componentCount: number };
    delete(): void;
  }
  export interface CharlsModule {
    JpegLSDecoder: new () => JpegLSDecoder;
  }
  const factory: (options?: {
    print?: (s: string) => void;
    printErr?: (s: string) => void;
  }) => Promise<CharlsModule>;
  export default factory;
}

declare module 'jpeg-lossless-decoder-js' {
  export class Decoder {
    decode(buffer: ArrayBuffer, offset: number, length: number, numBytes?: number): Uint8Array | Uint16Array;
  }
}
