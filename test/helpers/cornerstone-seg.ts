/**
 * Reads a SEG the way a Cornerstone3D viewer (OHIF) does: @cornerstonejs/adapters'
 * Segmentation.createFromDICOMSegBuffer on the referenced CT images, with a metadata provider fed from the CT
 * files themselves. Returns, per CT file, the labelmap (segment index per pixel) the viewer would show.
 */
import { readFile } from 'node:fs/promises';
import { readDicomFile } from '../../src/dicom/part10.js';

export async function cornerstoneLabelmaps(
  segPath: string,
  ctFiles: string[],
): Promise<{ file: string; ipp: number[]; labels: ArrayLike<number> }[]> {
  const adapters = await import('@cornerstonejs/adapters');
  const core = await import('@cornerstonejs/core');
  const imageIds: string[] = [];
  const meta = new Map<string, Map<string, unknown>>();
  const ipps: number[][] = [];
  for (const f of ctFiles) {
    const d = (await readDicomFile(f)).dataset;
    const id = `recist3d-test:${d.SOPInstanceUID}`;
    imageIds.push(id);
    const iop = (d.ImageOrientationPatient as number[]).map(Number);
    const ipp = (d.ImagePositionPatient as number[]).map(Number);
    const ps = (d.PixelSpacing as number[]).map(Number);
    ipps.push(ipp);
    const m = new Map<string, unknown>([
      [
        'imagePlaneModule',
        {
          frameOfReferenceUID: d.FrameOfReferenceUID,
          rows: d.Rows,
          columns: d.Columns,
          imageOrientationPatient: iop,
          rowCosines: iop.slice(0, 3),
          columnCosines: iop.slice(3, 6),
          imagePositionPatient: ipp,
          pixelSpacing: ps,
          rowPixelSpacing: ps[0],
          columnPixelSpacing: ps[1],
          sliceThickness: Number(d.SliceThickness ?? 1),
        },
      ],
      [
        'generalSeriesModule',
        {
          modality: d.Modality,
          seriesInstanceUID: d.SeriesInstanceUID,
          studyInstanceUID: d.StudyInstanceUID,
        },
      ],
      ['generalImageModule', { sopInstanceUID: d.SOPInstanceUID, instanceNumber: d.InstanceNumber }],
      ['sopCommonModule', { sopClassUID: d.SOPClassUID, sopInstanceUID: d.SOPInstanceUID }],
      [
        'imagePixelModule',
        {
          samplesPerPixel: 1,
          photometricInterpretation: 'MONOCHROME2',
          rows: d.Rows,
          columns: d.Columns,
          bitsAllocated: 16,
          bitsStored: 16,
          highBit: 15,
          pixelRepresentation: 1,
        },
      ],
      ['instance', { ...d, PixelData: undefined }],
    ]);
    meta.set(id, m);
  }
  const get = (type: string, id: unknown) => meta.get(String(id))?.get(type);
  core.metaData.addProvider(get, 10000);
  const metadataProvider = {
    get,
    add: (id: string, type: string, v: unknown) => {
      if (!meta.has(id)) meta.set(id, new Map());
      meta.get(id)!.set(type, v);
    },
  };
  const buf = await readFile(segPath);
  const res = (await adapters.adaptersSEG.Cornerstone3D.Segmentation.createFromDICOMSegBuffer(
    imageIds,
    buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength),
    { metadataProvider },
  )) as { labelMapImages: { getPixelData(): ArrayLike<number> }[][] };
  core.metaData.removeProvider(get);
  const images = res.labelMapImages[0];
  return ctFiles.map((file, q) => ({ file, ipp: ipps[q], labels: images[q].getPixelData() }));
}
