/**
 * RECIST marks from a DICOM SR that follows TID 1500 (Measurement Report), as Cornerstone3D / OHIF and dcmjs
 * write them: each Measurement Group with a Long Axis and a Short Axis NUM, each inferred from a 2-point
 * POLYLINE SCOORD selected from an image (or a SCOORD3D in the frame of reference). Both the SNOMED CT codes
 * (103339001 / 103340004) and the older SRT codes (G-A185 / G-A186) are accepted.
 */
import { Recist3dError } from '../errors.js';
import type { NaturalDataset } from 'dcmjs';
import type { DicomFile } from './part10.js';
import { METHODS } from './codes.js';
import { items, type Item } from './values.js';

/** One axis as drawn: two end points in image coordinates (SCOORD) or patient coordinates (SCOORD3D). */
export interface SrAxis {
  /** 'image': points are (column, row) with (0, 0) the top-left corner of the top-left pixel. 'patient': LPS mm. */
  space: 'image' | 'patient';
  points: number[][];
  /** The image the SCOORD was selected from (space 'image'). */
  sopInstanceUid?: string;
  /** The frame of reference of a SCOORD3D (space 'patient'). */
  frameOfReferenceUid?: string;
  /** The length the SR states (mm), when given. */
  lengthMm?: number | undefined;
}

export interface SrMeasurement {
  /** The SR file and the 1-based index of the measurement group in it. */
  file: string;
  group: number;
  trackingId?: string | undefined;
  trackingUid?: string | undefined;
  /** Finding site code meaning (e.g. "Liver"), when given. */
  findingSite?: string | undefined;
  long: SrAxis;
  short: SrAxis;
}

function concept(item: Item): { value: string; scheme: string; meaning: string } {
  const c = items(item.ConceptNameCodeSequence)[0] ?? {};
  return {
    value: String(c.CodeValue ?? ''),
    scheme: String(c.CodingSchemeDesignator ?? ''),
    meaning: String(c.CodeMeaning ?? '').toLowerCase(),
  };
}

const isConcept = (item: Item, values: string[], meaning: string) => {
  const c = concept(item);
  return values.includes(c.value) || c.meaning === meaning;
};

const LONG = ['103339001', 'G-A185'];
const SHORT = ['103340004', 'G-A186'];

function axisOf(num: Item, file: string, group: number, name: string): SrAxis {
  const fail = (why: string): never => {
    throw new Recist3dError('E_DICOM_SR', `Measurement group ${group}: the ${name} ${why}`, { file });
  };
  const coord = items(num.ContentSequence).find(
    (c) => c.ValueType === 'SCOORD' || c.ValueType === 'SCOORD3D',
  );
  if (!coord) return fail('has no SCOORD / SCOORD3D child (nothing says where it was drawn)');
  const data = (Array.isArray(coord.GraphicData) ? coord.GraphicData : []).map(Number);
  const dims = coord.ValueType === 'SCOORD3D' ? 3 : 2;
  if (data.length < 2 * dims || !data.every(Number.isFinite))
    return fail(`has ${data.length} graphic data values; 2 points expected`);
  const points = [data.slice(0, dims), data.slice(data.length - dims)];
  const mv = items(num.MeasuredValueSequence)[0];
  const lengthMm = mv && mv.NumericValue !== undefined ? Number(mv.NumericValue) : undefined;
  if (dims === 3) {
    const frameOfReferenceUid = String(coord.ReferencedFrameOfReferenceUID ?? '');
    if (!frameOfReferenceUid) fail('SCOORD3D has no ReferencedFrameOfReferenceUID');
    return { space: 'patient', points, frameOfReferenceUid, lengthMm };
  }
  const image = items(coord.ContentSequence).find((c) => c.ValueType === 'IMAGE');
  const sop = items(image?.ReferencedSOPSequence)[0];
  const sopInstanceUid = String(sop?.ReferencedSOPInstanceUID ?? '');
  if (!sopInstanceUid) fail('SCOORD has no IMAGE child referencing the slice it was drawn on');
  return { space: 'image', points, sopInstanceUid, lengthMm };
}

/** Depth-first search for containers with the given concept. */
function findContainers(root: Item, values: string[], meaning: string): Item[] {
  const out: Item[] = [];
  const walk = (it: Item) => {
    for (const c of items(it.ContentSequence)) {
      if (c.ValueType === 'CONTAINER' && isConcept(c, values, meaning)) out.push(c);
      else if (c.ValueType === 'CONTAINER') walk(c);
    }
  };
  walk(root);
  return out;
}

/**
 * Reads every measurement group with a Long Axis and a Short Axis. Groups without them (lengths, areas, ...)
 * are skipped; a group whose axes cannot be located is reported in `failures`. Throws E_DICOM_SR when the file
 * is not a TID 1500 measurement report.
 */
export function readRecistSr(f: DicomFile): { measurements: SrMeasurement[]; failures: Recist3dError[] } {
  const ds: NaturalDataset = f.dataset;
  const root = ds as Item;
  const title = concept(root);
  const groups = findContainers(root, ['125007'], 'measurement group');
  if (!(title.value === '126000' || groups.length > 0))
    throw new Recist3dError(
      'E_DICOM_SR',
      `Not a TID 1500 measurement report (document title ${title.value || '(none)'} "${title.meaning}", ` +
        'no Measurement Group containers)',
      { file: f.file },
    );
  const measurements: SrMeasurement[] = [];
  const failures: Recist3dError[] = [];
  groups.forEach((g, gi) => {
    const content = items(g.ContentSequence);
    // recist3d's own export also writes the auto-RECIST of its 3D mask as axes: those are results, not marks
    const marked = (c: Item) =>
      c.ValueType === 'NUM' &&
      !items(c.ContentSequence).some(
        (m) => items(m.ConceptCodeSequence)[0]?.CodeValue === METHODS.auto.CodeValue,
      );
    const longNum = content.find((c) => marked(c) && isConcept(c, LONG, 'long axis'));
    const shortNum = content.find((c) => marked(c) && isConcept(c, SHORT, 'short axis'));
    if (!longNum && !shortNum) return;
    try {
      if (!longNum || !shortNum)
        throw new Recist3dError(
          'E_DICOM_SR',
          `Measurement group ${gi + 1} has a ${longNum ? 'Long' : 'Short'} Axis but no ${longNum ? 'Short' : 'Long'} Axis`,
          { file: f.file },
        );
      const text = (values: string[], meaning: string, key: string) => {
        const it = content.find((c) => isConcept(c, values, meaning));
        const v = it?.[key];
        return v === undefined ? undefined : String(v);
      };
      const site = content.find((c) => isConcept(c, ['363698007', 'G-C0E3'], 'finding site'));
      const siteCode = items(site?.ConceptCodeSequence)[0];
      measurements.push({
        file: f.file,
        group: gi + 1,
        trackingId: text(['112039'], 'tracking identifier', 'TextValue'),
        trackingUid: text(['112040'], 'tracking unique identifier', 'UID'),
        findingSite: siteCode ? String(siteCode.CodeMeaning ?? '') : undefined,
        long: axisOf(longNum, f.file, gi + 1, 'Long Axis'),
        short: axisOf(shortNum, f.file, gi + 1, 'Short Axis'),
      });
    } catch (e) {
      if (!(e instanceof Recist3dError)) throw e;
      failures.push(e);
    }
  });
  return { measurements, failures };
}
