/**
 * DICOM SR (Comprehensive SR, TID 1500 Measurement Report) of one study's lesions. Per lesion two
 * measurement groups share its Tracking Identifier (the lesion id) and Tracking UID:
 *   1. the RECIST as marked: Long Axis and Short Axis NUMs, each inferred from a 2-point POLYLINE SCOORD on the
 *      key slice's SOP instance (the form Cornerstone3D / OHIF write and read, TID 1501 / TID 300);
 *   2. the 3D result (TID 1411 style): the Referenced Segment in the SEG, the source series, the Volume (mm3)
 *      and the auto-RECIST of the 3D mask (Long/Short Axis on the slice it was measured on).
 * Image coordinates follow DICOM: (0, 0) is the top-left corner of the top-left pixel, so voxel (i, j) is
 * (i + 0.5, j + 0.5).
 */
import type { NaturalDataset } from 'dcmjs';
import type { LesionCategory, PointIJ, Recist } from '../types/recist.js';
import { CATEGORY_REGION, CODES, METHODS, SEGMENT_TYPE, type Code } from './codes.js';
import { dicomDateTime, equipment, patientStudy } from './common-modules.js';
import type { DicomSeriesSidecar } from './sidecar.js';
import { SEGMENTATION_STORAGE } from './seg-write.js';
import { newUid } from './uids.js';
import type { Item } from './values.js';
import { resolveOptions } from '../util/options.js';

export const COMPREHENSIVE_SR_STORAGE = '1.2.840.10008.5.1.4.1.1.88.33';
/** A fixed Device Observer UID for recist3d (2.25 UUID form). */
export const RECIST3D_DEVICE_UID = '2.25.299371526316548187436530788829426766862';

/** RECIST on one slice of the referenced series, with its axis lengths. */
export interface SrRecist {
  keySlice: number;
  recist: Recist;
  longMm: number;
  shortMm: number;
}

export interface SrLesion {
  lesionId: string;
  category: LesionCategory;
  trackingUid: string;
  /** The series the lesion's image is (written as). */
  series: DicomSeriesSidecar;
  /** The RECIST as marked (manifest / source SR). */
  reader: SrRecist;
  /** The auto-RECIST of the 3D mask, when measurable. */
  auto?: SrRecist | undefined;
  volumeMm3?: number;
  /** Where the lesion's segment is. */
  seg?: { sopInstanceUid: string; seriesInstanceUid: string; segmentNumber: number };
}

export interface SrOptions {
  /** Software version written as SoftwareVersions. */
  version?: string;
  seriesNumber?: number;
  seriesDescription?: string;
}

const DEFAULTS = {
  version: '0',
  seriesNumber: 301,
  seriesDescription: 'recist3d RECIST and volumes',
} satisfies Required<SrOptions>;

const code = (rel: string, name: Code, value: Code): Item => ({
  RelationshipType: rel,
  ValueType: 'CODE',
  ConceptNameCodeSequence: [name],
  ConceptCodeSequence: [value],
});
const text = (rel: string, name: Code, value: string): Item => ({
  RelationshipType: rel,
  ValueType: 'TEXT',
  ConceptNameCodeSequence: [name],
  TextValue: value,
});
const uidref = (rel: string, name: Code, uid: string): Item => ({
  RelationshipType: rel,
  ValueType: 'UIDREF',
  ConceptNameCodeSequence: [name],
  UID: uid,
});
const container = (rel: string, name: Code, content: Item[]): Item => ({
  RelationshipType: rel,
  ValueType: 'CONTAINER',
  ConceptNameCodeSequence: [name],
  ContinuityOfContent: 'SEPARATE',
  ContentSequence: content,
});
const imageRef = (sopClassUid: string, sopInstanceUid: string, extra: Item = {}): Item => ({
  ReferencedSOPClassUID: sopClassUid,
  ReferencedSOPInstanceUID: sopInstanceUid,
  ...extra,
});

/** A NUM item (mm or mm3) with optional method and SCOORD children. */
function num(name: Code, value: number, unit: Code, children: Item[]): Item {
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'NUM',
    ConceptNameCodeSequence: [name],
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: [unit], NumericValue: Number(value.toFixed(4)) }],
    ...(children.length ? { ContentSequence: children } : {}),
  };
}

/** POLYLINE SCOORD of two voxel points on slice k, selected from that slice's SOP instance. */
function scoord(series: DicomSeriesSidecar, k: number, a: PointIJ, b: PointIJ): Item {
  const s = series.slices[k];
  return {
    RelationshipType: 'INFERRED FROM',
    ValueType: 'SCOORD',
    GraphicType: 'POLYLINE',
    GraphicData: [a[0] + 0.5, a[1] + 0.5, b[0] + 0.5, b[1] + 0.5],
    ContentSequence: [
      {
        RelationshipType: 'SELECTED FROM',
        ValueType: 'IMAGE',
        ReferencedSOPSequence: [imageRef(s.sopClassUid, s.sopInstanceUid)],
      },
    ],
  };
}

function axes(series: DicomSeriesSidecar, r: SrRecist, method: Code): Item[] {
  const m = code('HAS CONCEPT MOD', CODES.method, method);
  return [
    num(CODES.longAxis, r.longMm, CODES.mm, [m, scoord(series, r.keySlice, ...r.recist.long)]),
    num(CODES.shortAxis, r.shortMm, CODES.mm, [m, scoord(series, r.keySlice, ...r.recist.short)]),
  ];
}

function trackingAndFinding(l: SrLesion): Item[] {
  const region = CATEGORY_REGION[l.category];
  return [
    text('HAS OBS CONTEXT', CODES.trackingIdentifier, l.lesionId.slice(0, 64)),
    uidref('HAS OBS CONTEXT', CODES.trackingUid, l.trackingUid),
    code('CONTAINS', CODES.finding, SEGMENT_TYPE),
    ...(region ? [code('HAS CONCEPT MOD', CODES.findingSite, region)] : []),
  ];
}

/** Builds the SR data set for lesions of one study (all share `lesions[0].series`' patient and study). */
export function buildSr(lesions: SrLesion[], options: SrOptions = {}): NaturalDataset {
  const o = resolveOptions(DEFAULTS, options);
  const ref = lesions[0].series;
  const { date, time } = dicomDateTime();
  const groups: Item[] = [];
  // evidence: study -> series -> instances
  const evidence = new Map<string, Map<string, Map<string, string>>>();
  const addEvidence = (study: string, series: string, cls: string, sop: string) => {
    const st = evidence.get(study) ?? new Map<string, Map<string, string>>();
    const se = st.get(series) ?? new Map<string, string>();
    se.set(sop, cls);
    st.set(series, se);
    evidence.set(study, st);
  };
  const library: Item[] = [];
  const inLibrary = new Set<string>();
  const addImage = (series: DicomSeriesSidecar, k: number) => {
    const s = series.slices[k];
    addEvidence(series.studyInstanceUid, series.seriesInstanceUid, s.sopClassUid, s.sopInstanceUid);
    if (inLibrary.has(s.sopInstanceUid)) return;
    inLibrary.add(s.sopInstanceUid);
    library.push({
      RelationshipType: 'CONTAINS',
      ValueType: 'IMAGE',
      ReferencedSOPSequence: [imageRef(s.sopClassUid, s.sopInstanceUid)],
    });
  };
  for (const l of lesions) {
    addImage(l.series, l.reader.keySlice);
    groups.push(
      container('CONTAINS', CODES.measurementGroup, [
        ...trackingAndFinding(l),
        ...axes(l.series, l.reader, METHODS.reader),
      ]),
    );
    const result: Item[] = [];
    if (l.seg) {
      addEvidence(
        l.series.studyInstanceUid,
        l.seg.seriesInstanceUid,
        SEGMENTATION_STORAGE,
        l.seg.sopInstanceUid,
      );
      result.push({
        RelationshipType: 'CONTAINS',
        ValueType: 'IMAGE',
        ConceptNameCodeSequence: [CODES.referencedSegment],
        ReferencedSOPSequence: [
          imageRef(SEGMENTATION_STORAGE, l.seg.sopInstanceUid, {
            ReferencedSegmentNumber: l.seg.segmentNumber,
          }),
        ],
      });
      result.push(uidref('CONTAINS', CODES.sourceSeriesForSegmentation, l.series.seriesInstanceUid));
    }
    if (l.volumeMm3 !== undefined && Number.isFinite(l.volumeMm3))
      result.push(num(CODES.volume, l.volumeMm3, CODES.mm3, []));
    if (l.auto) {
      addImage(l.series, l.auto.keySlice);
      result.push(...axes(l.series, l.auto, METHODS.auto));
    }
    if (result.length)
      groups.push(container('CONTAINS', CODES.measurementGroup, [...trackingAndFinding(l), ...result]));
  }
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: COMPREHENSIVE_SR_STORAGE,
    SOPInstanceUID: newUid(),
    ...patientStudy(ref),
    Modality: 'SR',
    SeriesInstanceUID: newUid(),
    SeriesNumber: o.seriesNumber,
    SeriesDescription: o.seriesDescription,
    SeriesDate: date,
    SeriesTime: time,
    ReferencedPerformedProcedureStepSequence: [],
    ...equipment(o.version),
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: date,
    ContentTime: time,
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [...evidence].map(([study, series]) => ({
      StudyInstanceUID: study,
      ReferencedSeriesSequence: [...series].map(([uid, sops]) => ({
        SeriesInstanceUID: uid,
        ReferencedSOPSequence: [...sops].map(([sop, cls]) => imageRef(cls, sop)),
      })),
    })),
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: [CODES.measurementReport],
    ContinuityOfContent: 'SEPARATE',
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
    CodingSchemeIdentificationSequence: [
      {
        CodingSchemeDesignator: METHODS.auto.CodingSchemeDesignator,
        CodingSchemeName: 'recist3d measurement methods',
        CodingSchemeResponsibleOrganization: 'recist3d',
      },
    ],
    ContentSequence: [
      code('HAS CONCEPT MOD', CODES.language, CODES.englishLanguage),
      code('HAS OBS CONTEXT', CODES.observerType, CODES.device),
      uidref('HAS OBS CONTEXT', CODES.deviceObserverUid, RECIST3D_DEVICE_UID),
      text('HAS OBS CONTEXT', CODES.deviceObserverName, 'recist3d'),
      code('HAS CONCEPT MOD', CODES.procedureReported, CODES.imagingProcedure),
      container('CONTAINS', CODES.imageLibrary, [container('CONTAINS', CODES.imageLibraryGroup, library)]),
      container('CONTAINS', CODES.imagingMeasurements, groups),
    ],
  };
}
