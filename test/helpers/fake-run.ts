/**
 * A run folder written by hand around the tiny cohort (test/helpers/tiny-cohort.ts), for the server tests that
 * need no trained model: lesions.csv, masks/ (copies of the truth), metrics.json naming the manifest, and a
 * report. Rows: good_a and good_b (ok), escape (a mask path out of the run folder), no_image (failed).
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTinyCohort } from './tiny-cohort.js';

export async function makeFakeRun(dir: string): Promise<{ runDir: string; manifest: string }> {
  const { manifest } = await makeTinyCohort(dir);
  const runDir = join(dir, 'run');
  await mkdir(join(runDir, 'masks'), { recursive: true });
  await copyFile(join(dir, 'a_mask.nii.gz'), join(runDir, 'masks', 'good_a.nii.gz'));
  await copyFile(join(dir, 'b_mask.nii.gz'), join(runDir, 'masks', 'good_b.nii.gz'));
  await writeFile(
    join(runDir, 'lesions.csv'),
    'lesion_id,category,status,error,mask,volume_mm3,recist_ellipsoid_mm3,slice_first,slice_last,qc_empty,dice_3d\n' +
      'good_a,soft_tissue,ok,,masks/good_a.nii.gz,500.0,450.0,1,3,0,1.0\n' +
      'good_b,soft_tissue,ok,,masks/good_b.nii.gz,300.0,280.0,2,4,0,1.0\n' +
      'escape,soft_tissue,ok,,../a_mask.nii.gz,1.0,1.0,1,1,0,\n' +
      'no_image,soft_tissue,failed,E_FILE_NOT_FOUND: missing,,,,,,,\n',
  );
  await writeFile(join(runDir, 'metrics.json'), JSON.stringify({ manifest }));
  await writeFile(join(runDir, 'report.html'), '<html>report</html>');
  return { runDir, manifest };
}
