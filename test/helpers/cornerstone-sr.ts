/**
 * A TID 1500 SR with Bidirectional (Long Axis / Short Axis) measurements built the way Cornerstone3D's adapter
 * builds it: dcmjs's TID1500MeasurementReport, TID1501MeasurementGroup and TID300 Bidirectional content items,
 * wrapped like its MeasurementReport.generateReport. Independent of src/dicom/sr-write.ts.
 */
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { newUid } from '../../src/dicom/uids.js';

interface Point {
  x: number;
  y: number;
  z?: number;
}
export interface CsBidirectional {
  long: Point[];
  short: Point[];
  /** SOP instance the axes were drawn on (2D image coordinates). */
  sopInstanceUid?: string;
  /** Frame of reference for 3D (patient) coordinates. */
  frameOfReferenceUid?: string;
  findingSite?: { CodeValue: string; CodingSchemeDesignator: string; CodeMeaning: string };
}

type Ctor = new (...args: unknown[]) => { contentItem(...args: unknown[]): Record<string, unknown> };
const utilities = (dcmjs as unknown as { utilities: Record<string, Record<string, Ctor>> }).utilities;

/** The SR data set; `source` gives patient and study attributes (a naturalized CT slice). */
export function cornerstoneSr(source: NaturalDataset, measurements: CsBidirectional[]): NaturalDataset {
  const groups = measurements.map((m) => {
    const length = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y, (a.z ?? 0) - (b.z ?? 0));
    const bidi = new utilities.TID300.Bidirectional({
      longAxis: { point1: m.long[0], point2: m.long[1] },
      shortAxis: { point1: m.short[0], point2: m.short[1] },
      longAxisLength: length(m.long[0], m.long[1]),
      shortAxisLength: length(m.short[0], m.short[1]),
      unit: 'mm',
      use3DSpatialCoordinates: !!m.frameOfReferenceUid,
      ReferencedFrameOfReferenceUID: m.frameOfReferenceUid,
      ReferencedSOPSequence: {
        ReferencedSOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
        ReferencedSOPInstanceUID: m.sopInstanceUid ?? '',
      },
      trackingIdentifierTextValue: 'Cornerstone3DTools@^0.1.0:Bidirectional',
      findingSites: m.findingSite ? [m.findingSite] : [],
    });
    return new utilities.TID1500.TID1501MeasurementGroup([bidi]);
  });
  const report = new utilities.TID1500.TID1500MeasurementReport({ TID1501MeasurementGroups: groups });
  const content = report.contentItem([source]);
  return {
    SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.34',
    SOPInstanceUID: newUid(),
    StudyInstanceUID: source.StudyInstanceUID,
    PatientID: source.PatientID,
    PatientName: source.PatientName,
    StudyDate: source.StudyDate,
    Modality: 'SR',
    SeriesInstanceUID: newUid(),
    SeriesNumber: 99,
    InstanceNumber: 1,
    ValueType: 'CONTAINER',
    ...content,
  };
}
