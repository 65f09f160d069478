/**
 * The coded concepts recist3d writes into DICOM SEG and SR: segment categories and types per lesion category
 * (SNOMED CT, as in DICOM CID 7150/7151 and the anatomic regions of CID 4031), SR concept names and UCUM units.
 */
import type { LesionCategory } from '../types/recist.js';

/** A DICOM code sequence item. */
export interface Code {
  CodeValue: string;
  CodingSchemeDesignator: string;
  CodeMeaning: string;
}

const sct = (CodeValue: string, CodeMeaning: string): Code => ({
  CodeValue,
  CodingSchemeDesignator: 'SCT',
  CodeMeaning,
});
const dcm = (CodeValue: string, CodeMeaning: string): Code => ({
  CodeValue,
  CodingSchemeDesignator: 'DCM',
  CodeMeaning,
});
const ucum = (CodeValue: string, CodeMeaning: string): Code => ({
  CodeValue,
  CodingSchemeDesignator: 'UCUM',
  CodeMeaning,
});

/** Segmented property category of every lesion segment. */
export const SEGMENT_CATEGORY = sct('49755003', 'Morphologically Altered Structure');
/** Segmented property type of every lesion segment. */
export const SEGMENT_TYPE = sct('108369006', 'Neoplasm');

/** Anatomic region per lesion category (none for `unknown`). */
export const CATEGORY_REGION: Record<LesionCategory, Code | undefined> = {
  bone: sct('272673000', 'Bone structure'),
  abdomen: sct('113345001', 'Abdominal structure'),
  mediastinum: sct('72410000', 'Mediastinum'),
  liver: sct('10200004', 'Liver'),
  lung: sct('39607008', 'Lung'),
  kidney: sct('64033007', 'Kidney'),
  soft_tissue: sct('87784001', 'Soft tissues'),
  pelvis: sct('12921003', 'Pelvis'),
  unknown: undefined,
};

/** A finding site's code meaning (from an SR) to a lesion category, by keyword; undefined when none matches. */
export function categoryFromSite(meaning: string | undefined): LesionCategory | undefined {
  const m = (meaning ?? '').toLowerCase();
  const rules: [RegExp, LesionCategory][] = [
    [/liver|hepat/, 'liver'],
    [/lung|pulmon/, 'lung'],
    [/kidney|renal/, 'kidney'],
    [/bone|osse|skelet/, 'bone'],
    [/mediastin|lymph node/, 'mediastinum'],
    [/pelvi/, 'pelvis'],
    [/abdom/, 'abdomen'],
    [/soft tissue|muscle|limb/, 'soft_tissue'],
  ];
  return rules.find(([re]) => re.test(m))?.[1];
}

export const CODES = {
  measurementReport: dcm('126000', 'Imaging Measurement Report'),
  imagingMeasurements: dcm('126010', 'Imaging Measurements'),
  measurementGroup: dcm('125007', 'Measurement Group'),
  imageLibrary: dcm('111028', 'Image Library'),
  imageLibraryGroup: dcm('126200', 'Image Library Group'),
  language: dcm('121049', 'Language of Content Item and Descendants'),
  observerType: dcm('121005', 'Observer Type'),
  device: dcm('121007', 'Device'),
  deviceObserverUid: dcm('121012', 'Device Observer UID'),
  deviceObserverName: dcm('121013', 'Device Observer Name'),
  procedureReported: dcm('121058', 'Procedure reported'),
  imagingProcedure: sct('363679005', 'Imaging procedure'),
  trackingIdentifier: dcm('112039', 'Tracking Identifier'),
  trackingUid: dcm('112040', 'Tracking Unique Identifier'),
  finding: dcm('121071', 'Finding'),
  findingSite: sct('363698007', 'Finding Site'),
  longAxis: sct('103339001', 'Long Axis'),
  shortAxis: sct('103340004', 'Short Axis'),
  volume: sct('118565006', 'Volume'),
  method: sct('370129005', 'Measurement Method'),
  referencedSegment: dcm('121191', 'Referenced Segment'),
  sourceSeriesForSegmentation: dcm('121232', 'Source series for segmentation'),
  activitySession: dcm('C67447', 'Activity Session'),
  englishLanguage: {
    CodeValue: 'en-US',
    CodingSchemeDesignator: 'RFC5646',
    CodeMeaning: 'English (United States)',
  },
  mm: ucum('mm', 'millimeter'),
  mm3: ucum('mm3', 'cubic millimeter'),
  sourceImage: dcm('121322', 'Source image for image processing operation'),
  segmentationDerivation: dcm('113076', 'Segmentation'),
} satisfies Record<string, Code>;

/** Method codes that tell the two RECIST measurements of a lesion apart in the SR. */
export const METHODS = {
  reader: {
    CodeValue: 'RECIST-READER',
    CodingSchemeDesignator: '99RECIST3D',
    CodeMeaning: 'RECIST as marked by the reader',
  },
  auto: {
    CodeValue: 'RECIST-AUTO',
    CodingSchemeDesignator: '99RECIST3D',
    CodeMeaning: 'RECIST measured on the recist3d 3D mask',
  },
} satisfies Record<string, Code>;
