/**
 * Independent checks of an exported SEG and SR: pydicom reads them, resolves every reference against the CT
 * files, and returns each SEG frame's set pixels with its ImagePositionPatient; the frames are then placed on
 * the NIfTI mask through the mask's own affine (patient LPS -> NIfTI RAS -> voxel), so a frame must land on the
 * mask's voxels, not merely have the right count.
 */
import assert from 'node:assert/strict';
import { readMask } from '../../src/io/nifti.js';
import type { Mask } from '../../src/types/volume.js';
import { affineFromGrid } from '../../src/geometry/affine.js';
import { pydicom } from './dicom.js';

const SCRIPT = `import sys, json, pydicom
a = json.loads(sys.argv[1])
ct = {}
for f in a['ct']:
    d = pydicom.dcmread(f, stop_before_pixels=True)
    ct[d.SOPInstanceUID] = {'ipp': [float(x) for x in d.ImagePositionPatient], 'series': d.SeriesInstanceUID, 'study': d.StudyInstanceUID, 'for': d.FrameOfReferenceUID}
seg = pydicom.dcmread(a['seg'])
px = seg.pixel_array
if int(seg.NumberOfFrames) == 1:
    px = px.reshape((1,) + px.shape)
problems = []
refs = seg.ReferencedSeriesSequence[0]
for r in refs.ReferencedInstanceSequence:
    if r.ReferencedSOPInstanceUID not in ct: problems.append('SEG references unknown instance ' + r.ReferencedSOPInstanceUID)
if refs.SeriesInstanceUID not in {v['series'] for v in ct.values()}: problems.append('SEG references unknown series')
first = next(iter(ct.values()))
if seg.StudyInstanceUID != first['study']: problems.append('SEG in another study')
if seg.FrameOfReferenceUID != first['for']: problems.append('SEG in another frame of reference')
frames = []
for n, fg in enumerate(seg.PerFrameFunctionalGroupsSequence):
    ipp = [float(x) for x in fg.PlanePositionSequence[0].ImagePositionPatient]
    src = fg.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
    if src not in ct: problems.append('frame %d derives from unknown instance' % (n + 1))
    elif max(abs(p - q) for p, q in zip(ipp, ct[src]['ipp'])) > 1e-3: problems.append('frame %d is not at its source slice' % (n + 1))
    rows, cols = px[n].nonzero()
    frames.append({'segment': int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber), 'ipp': ipp, 'pixels': [[int(r), int(c)] for r, c in zip(rows, cols)]})
orient = [float(x) for x in seg.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient]
spacing = [float(x) for x in seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]
segments = [{'number': int(s.SegmentNumber), 'label': s.SegmentLabel, 'type': s.SegmentedPropertyTypeCodeSequence[0].CodeMeaning} for s in seg.SegmentSequence]
sr = pydicom.dcmread(a['sr'])
known = set(ct) | {seg.SOPInstanceUID}
evidence = set()
for st in sr.CurrentRequestedProcedureEvidenceSequence:
    for se in st.ReferencedSeriesSequence:
        for r in se.ReferencedSOPSequence: evidence.add(r.ReferencedSOPInstanceUID)
nums = []
def walk(items, group):
    for it in items:
        if it.ValueType == 'IMAGE':
            for r in it.ReferencedSOPSequence:
                if r.ReferencedSOPInstanceUID not in known: problems.append('SR references unknown instance ' + r.ReferencedSOPInstanceUID)
                if r.ReferencedSOPInstanceUID not in evidence: problems.append('SR reference missing from the evidence ' + r.ReferencedSOPInstanceUID)
        if it.ValueType == 'NUM':
            nums.append({'group': group, 'name': it.ConceptNameCodeSequence[0].CodeMeaning, 'value': float(it.MeasuredValueSequence[0].NumericValue), 'unit': it.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue})
        if 'ContentSequence' in it:
            walk(it.ContentSequence, group)
for it in sr.ContentSequence:
    if it.ConceptNameCodeSequence[0].CodeValue == '126010':
        for g, grp in enumerate(it.ContentSequence):
            tid = [c.TextValue for c in grp.ContentSequence if c.ValueType == 'TEXT'][0]
            walk(grp.ContentSequence, tid + '#' + str(g))
    elif 'ContentSequence' in it:
        walk(it.ContentSequence, '')
print(json.dumps({'problems': problems, 'frames': frames, 'orient': orient, 'spacing': spacing, 'segments': segments, 'nums': nums, 'segUid': seg.SOPInstanceUID}))`;

export interface SegCheck {
  problems: string[];
  frames: { segment: number; ipp: number[]; pixels: [number, number][] }[];
  orient: number[];
  spacing: number[];
  segments: { number: number; label: string; type: string }[];
  nums: { group: string; name: string; value: number; unit: string }[];
  segUid: string;
}

/** Reads SEG and SR with pydicom; asserts that every reference resolves. */
export function checkSegSr(seg: string, sr: string, ctFiles: string[]): SegCheck {
  const r = pydicom<SegCheck>(SCRIPT, { seg, sr, ct: ctFiles });
  assert.deepEqual(r.problems, []);
  return r;
}

/** Asserts that segment `segment`'s frames cover exactly the voxels of the NIfTI mask, placed by world position. */
export async function assertFramesOnMask(c: SegCheck, segment: number, maskPath: string): Promise<void> {
  const mask = await readMask(maskPath);
  const [ni, nj, nk] = mask.size;
  const toVoxel = (lps: number[]) => lpsToMaskVoxel(mask, lps);
  const seen = new Uint8Array(mask.data.length);
  const [r0, r1, r2, c0, c1, c2] = c.orient;
  for (const f of c.frames.filter((x) => x.segment === segment)) {
    for (const [row, col] of f.pixels) {
      const lps = [0, 1, 2].map(
        (ax) => f.ipp[ax] + col * c.spacing[1] * [r0, r1, r2][ax] + row * c.spacing[0] * [c0, c1, c2][ax],
      );
      const v = toVoxel(lps);
      const idx = v.map(Math.round);
      assert.ok(
        v.every((x, q) => Math.abs(x - idx[q]) < 1e-3),
        `frame pixel ${row},${col} is off the voxel grid: ${v}`,
      );
      assert.ok(
        idx[0] >= 0 && idx[0] < ni && idx[1] >= 0 && idx[1] < nj && idx[2] >= 0 && idx[2] < nk,
        `outside: ${idx}`,
      );
      const x = idx[0] + ni * (idx[1] + nj * idx[2]);
      assert.equal(
        mask.data[x],
        1,
        `SEG pixel ${row},${col} of frame at ${f.ipp} lands on mask voxel ${idx}, which is 0`,
      );
      seen[x] = 1;
    }
  }
  let missing = 0;
  for (let x = 0; x < mask.data.length; x++) if (mask.data[x] && !seen[x]) missing++;
  assert.equal(missing, 0, 'every mask voxel is in some SEG frame');
}

/** Fractional voxel [i, j, k] of a patient (LPS) point on a NIfTI grid, through the grid's own affine (RAS). */
export function lpsToMaskVoxel(mask: Mask, lps: number[]): number[] {
  const a = affineFromGrid(mask);
  // invert the 3x3 part of the affine
  const m = [a[0], a[1], a[2], a[4], a[5], a[6], a[8], a[9], a[10]];
  const det =
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6]);
  const inv = [
    (m[4] * m[8] - m[5] * m[7]) / det,
    (m[2] * m[7] - m[1] * m[8]) / det,
    (m[1] * m[5] - m[2] * m[4]) / det,
    (m[5] * m[6] - m[3] * m[8]) / det,
    (m[0] * m[8] - m[2] * m[6]) / det,
    (m[2] * m[3] - m[0] * m[5]) / det,
    (m[3] * m[7] - m[4] * m[6]) / det,
    (m[1] * m[6] - m[0] * m[7]) / det,
    (m[0] * m[4] - m[1] * m[3]) / det,
  ];
  const d = [-lps[0] - a[3], -lps[1] - a[7], lps[2] - a[11]]; // LPS -> RAS, minus the origin
  return [0, 1, 2].map((r) => inv[3 * r] * d[0] + inv[3 * r + 1] * d[1] + inv[3 * r + 2] * d[2]);
}
