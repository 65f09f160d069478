/**
 * Attributes every object recist3d writes shares: the patient and study it belongs to (copied from the
 * referenced series), the equipment (recist3d itself), and content date and time.
 */
import type { NaturalDataset } from 'dcmjs';
import type { DicomSeriesSidecar } from './sidecar.js';

export const MANUFACTURER = 'recist3d';

/** DICOM DA and TM of a moment (local time). */
export function dicomDateTime(d = new Date()): { date: string; time: string } {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return {
    date: `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}`,
    time: `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`,
  };
}

/** Maximum lengths of the short-string VRs copied from source data (PS3.5 6.2): SH 16, LO 64. */
const MAX_LENGTH: Record<string, number> = {
  StudyID: 16,
  AccessionNumber: 16,
  PatientID: 64,
  StudyDescription: 64,
};

/** A copied text value cut to its VR's maximum length (some PACS exports exceed it, e.g. a 17-character StudyID). */
function clamp(key: string, v: unknown): unknown {
  const max = MAX_LENGTH[key];
  return max !== undefined && typeof v === 'string' && v.length > max ? v.slice(0, max) : v;
}

/**
 * Patient and General Study modules (type 2 attributes present, empty when unknown). Text values longer than
 * their VR allows are cut, so the written object is valid even when the source was not; the Study Instance UID,
 * which is what links the objects, is copied as it is.
 */
export function patientStudy(ref: DicomSeriesSidecar): NaturalDataset {
  const ds = patientStudyRaw(ref);
  for (const k of Object.keys(ds)) ds[k] = clamp(k, ds[k]);
  return ds;
}

function patientStudyRaw(ref: DicomSeriesSidecar): NaturalDataset {
  return {
    PatientName: ref.patient.PatientName ?? '',
    PatientID: ref.patient.PatientID ?? '',
    PatientBirthDate: ref.patient.PatientBirthDate ?? '',
    PatientSex: ref.patient.PatientSex ?? '',
    ...(ref.patient.PatientAge ? { PatientAge: ref.patient.PatientAge } : {}),
    StudyInstanceUID: ref.studyInstanceUid,
    StudyDate: ref.study.StudyDate ?? '',
    StudyTime: ref.study.StudyTime ?? '',
    StudyID: ref.study.StudyID ?? '',
    AccessionNumber: ref.study.AccessionNumber ?? '',
    ReferringPhysicianName: ref.study.ReferringPhysicianName ?? '',
    ...(ref.study.StudyDescription ? { StudyDescription: ref.study.StudyDescription } : {}),
  };
}

/** General and Enhanced General Equipment modules, naming recist3d and its version. */
export function equipment(version: string): NaturalDataset {
  return {
    Manufacturer: MANUFACTURER,
    ManufacturerModelName: MANUFACTURER,
    DeviceSerialNumber: '1',
    SoftwareVersions: version,
  };
}
