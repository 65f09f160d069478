/**
 * DICOM Segmentation (binary, one segment per lesion) on a referenced CT series: frame f of segment s is mask
 * slice k, placed by the slice's ImagePositionPatient and derived from that slice's SOP instance, so a viewer
 * overlays it on the series it references. Only slices where the lesion has voxels are stored. The data set is
 * built as a naturalized dcmjs data set, bit-packed with dcmjs's BitArray and encoded by dcmjs.
 */
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { Recist3dError } from '../errors.js';
import type { LesionCategory } from '../types/recist.js';
import type { Mask } from '../types/volume.js';
import { CATEGORY_REGION, CODES, SEGMENT_CATEGORY, SEGMENT_TYPE } from './codes.js';
import { dicomDateTime, equipment, patientStudy } from './common-modules.js';
import type { DicomSeriesSidecar } from './sidecar.js';
import { newUid } from './uids.js';
import { resolveOptions } from '../util/options.js';

export const SEGMENTATION_STORAGE = '1.2.840.10008.5.1.4.1.1.66.4';

/** One lesion's mask, on the grid of the referenced series (slice k = series slice k). */
export interface SegSegment {
  lesionId: string;
  category: LesionCategory;
  mask: Mask;
  /** Tracking UID shared with the SR's measurement groups of this lesion. */
  trackingUid: string;
}

export interface SegOptions {
  /** Software version written as SoftwareVersions. */
  version?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  /** Algorithm name written for every segment. */
  algorithmName?: string;
}

const DEFAULTS = {
  version: '0',
  seriesNumber: 300,
  seriesDescription: 'recist3d lesion masks',
  algorithmName: 'recist3d WSSS',
} satisfies Required<SegOptions>;

/** A distinct colour per segment (CIELab, scaled to 0..65535 as DICOM wants). */
function labColour(index: number): number[] {
  const hue = (index * 137.508 * Math.PI) / 180;
  const L = 60;
  const a = 60 * Math.cos(hue);
  const b = 60 * Math.sin(hue);
  return [
    Math.round((L / 100) * 65535),
    Math.round(((a + 128) / 255) * 65535),
    Math.round(((b + 128) / 255) * 65535),
  ];
}

/**
 * DICOM pads an odd-length PixelData with one byte, which @cornerstonejs/adapters 5.x (OHIF's SEG reader) rejects
 * ("Unexpected 1-bit SEG PixelData length"). When the packed frames would take an odd number of bytes, empty
 * frames of the last segment are added on slices where it has none (valid: a frame may hold no pixel) until the
 * length is even, so the SEG loads in those viewers too.
 */
function padToEvenBytes(frames: { segment: number; k: number }[], plane: number, nk: number): void {
  const last = frames[frames.length - 1].segment;
  const used = new Set(frames.filter((f) => f.segment === last).map((f) => f.k));
  for (let k = 0; k < nk && Math.ceil((frames.length * plane) / 8) % 2 === 1; k++)
    if (!used.has(k)) frames.push({ segment: last, k });
  frames.sort((a, b) => a.segment - b.segment || a.k - b.k);
}

/** Builds the SEG data set. Its SOPInstanceUID is new; the returned segment numbers follow `segments`' order. */
export function buildSeg(
  ref: DicomSeriesSidecar,
  segments: SegSegment[],
  options: SegOptions = {},
): NaturalDataset {
  const o = resolveOptions(DEFAULTS, options);
  const [ni, nj] = [ref.columns, ref.rows];
  const plane = ni * nj;
  const nk = ref.slices.length;
  if (segments.length === 0) throw new Recist3dError('E_DICOM_EXPORT', 'No lesion masks to write into a SEG');
  for (const s of segments)
    if (s.mask.size[0] !== ni || s.mask.size[1] !== nj || s.mask.size[2] !== nk)
      throw new Recist3dError(
        'E_GRID_MISMATCH',
        `Mask grid ${s.mask.size.join('x')} differs from the referenced series (${ni}x${nj}x${nk})`,
        { lesionId: s.lesionId },
      );
  const frames: { segment: number; k: number }[] = [];
  for (const [si, s] of segments.entries())
    for (let k = 0; k < nk; k++) {
      const d = s.mask.data;
      let any = false;
      for (let x = k * plane; !any && x < (k + 1) * plane; x++) any = d[x] !== 0;
      if (any) frames.push({ segment: si + 1, k });
    }
  if (frames.length === 0)
    throw new Recist3dError('E_DICOM_EXPORT', 'Every lesion mask is empty: no SEG to write');
  padToEvenBytes(frames, plane, nk);
  const unpacked = new Uint8Array(frames.length * plane);
  frames.forEach((f, q) => {
    const src = segments[f.segment - 1].mask.data.subarray(f.k * plane, (f.k + 1) * plane);
    for (let x = 0; x < plane; x++) unpacked[q * plane + x] = src[x] ? 1 : 0;
  });
  const packed = dcmjs.data.BitArray.pack(unpacked);
  const { date, time } = dicomDateTime();
  const dimensionUid = newUid();
  const spacingK =
    nk > 1
      ? Math.hypot(
          ...[0, 1, 2].map(
            (a) => ref.slices[nk - 1].imagePositionPatient[a] - ref.slices[0].imagePositionPatient[a],
          ),
        ) /
        (nk - 1)
      : 1;
  return {
    _vrMap: { PixelData: 'OB' },
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: newUid(),
    ...patientStudy(ref),
    Modality: 'SEG',
    SeriesInstanceUID: newUid(),
    SeriesNumber: o.seriesNumber,
    SeriesDescription: o.seriesDescription,
    SeriesDate: date,
    SeriesTime: time,
    FrameOfReferenceUID: ref.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    ...equipment(o.version),
    InstanceNumber: 1,
    ContentDate: date,
    ContentTime: time,
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: 'LESIONS',
    ContentDescription: 'recist3d 3D lesion masks',
    ContentCreatorName: '',
    SegmentationType: 'BINARY',
    LossyImageCompression: '00',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: nj,
    Columns: ni,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    NumberOfFrames: frames.length,
    SegmentSequence: segments.map((s, si) => {
      const region = CATEGORY_REGION[s.category];
      return {
        SegmentNumber: si + 1,
        SegmentLabel: s.lesionId.slice(0, 64),
        SegmentDescription: `lesion ${s.lesionId} (${s.category})`.slice(0, 64),
        SegmentAlgorithmType: 'AUTOMATIC',
        SegmentAlgorithmName: o.algorithmName,
        SegmentedPropertyCategoryCodeSequence: [SEGMENT_CATEGORY],
        SegmentedPropertyTypeCodeSequence: [SEGMENT_TYPE],
        ...(region ? { AnatomicRegionSequence: [region] } : {}),
        TrackingID: s.lesionId.slice(0, 64),
        TrackingUID: s.trackingUid,
        RecommendedDisplayCIELabValue: labColour(si),
      };
    }),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionUid,
        DimensionIndexPointer: 0x0062000b,
        FunctionalGroupPointer: 0x0062000a,
        DimensionDescriptionLabel: 'ReferencedSegmentNumber',
      },
      {
        DimensionOrganizationUID: dimensionUid,
        DimensionIndexPointer: 0x00200032,
        FunctionalGroupPointer: 0x00209113,
        DimensionDescriptionLabel: 'ImagePositionPatient',
      },
    ],
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: ref.imageOrientationPatient }],
        PixelMeasuresSequence: [
          { PixelSpacing: ref.pixelSpacing, SliceThickness: spacingK, SpacingBetweenSlices: spacingK },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: frames.map((f) => {
      const s = ref.slices[f.k];
      return {
        FrameContentSequence: [{ DimensionIndexValues: [f.segment, f.k + 1] }],
        PlanePositionSequence: [{ ImagePositionPatient: s.imagePositionPatient }],
        SegmentIdentificationSequence: [{ ReferencedSegmentNumber: f.segment }],
        DerivationImageSequence: [
          {
            SourceImageSequence: [
              {
                ReferencedSOPClassUID: s.sopClassUid,
                ReferencedSOPInstanceUID: s.sopInstanceUid,
                PurposeOfReferenceCodeSequence: [CODES.sourceImage],
              },
            ],
            DerivationCodeSequence: [CODES.segmentationDerivation],
          },
        ],
      };
    }),
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: ref.seriesInstanceUid,
        ReferencedInstanceSequence: ref.slices.map((s) => ({
          ReferencedSOPClassUID: s.sopClassUid,
          ReferencedSOPInstanceUID: s.sopInstanceUid,
        })),
      },
    ],
    PixelData: [packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength)],
  };
}
