import { resolve } from 'node:path';
import type { Command } from 'commander';
import { exportDicom } from '../../dicom/export.js';
import { lazyProgress } from '../progress.js';

interface ExportDicomOpts {
  run: string;
  out: string;
  lesion?: string[];
  manifest?: string;
}

/** `recist3d export-dicom`: a run folder -> DICOM SEG + TID 1500 SR per study (and the CT when it was NIfTI). */
export function registerExportDicom(program: Command): void {
  program
    .command('export-dicom')
    .description(
      "write a run's masks and measurements as DICOM SEG and TID 1500 SR per study (and the CT when it came from NIfTI)",
    )
    .requiredOption('--run <dir>', 'a finished `recist3d run` folder')
    .requiredOption('--out <dir>', 'output folder: one sub-folder per study, and export.json')
    .option('--lesion <id...>', 'export only these lesions')
    .option('--manifest <csv>', 'the manifest the run used (default: the one metrics.json records)')
    .addHelpText(
      'after',
      '\nImages imported with `recist3d import-dicom` are referenced by their original UIDs; other images are\n' +
        'written as new CT series that the SEG and SR reference. See docs/dicom.md.\n',
    )
    .action(async (opts: ExportDicomOpts) => {
      const t0 = Date.now();
      const progress = lazyProgress('export-dicom');
      const res = await exportDicom({
        runDir: resolve(opts.run),
        outDir: resolve(opts.out),
        lesions: opts.lesion ?? [],
        manifest: opts.manifest ? resolve(opts.manifest) : '',
        onProgress: progress.onProgress,
      });
      progress.stop();
      for (const n of res.notes) process.stderr.write(`note: ${n}\n`);
      for (const s of res.skipped) process.stderr.write(`skipped ${s.lesionId}: ${s.reason}\n`);
      for (const s of res.studies)
        process.stdout.write(
          `study ${s.folder}: ${s.lesions.length} lesion(s), ${s.seg.length} SEG, SR, ` +
            `${s.reference === 'new' ? `${s.ctSeries.length} new CT series` : 'references the original series'}\n`,
        );
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `exported ${res.studies.length} study(ies) in ${secs} s\nsummary: ${res.summaryPath}\n`,
      );
    });
}
