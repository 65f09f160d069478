import { resolve } from 'node:path';
import type { Command } from 'commander';
import { importDicom } from '../../dicom/import.js';
import { lazyProgress } from '../progress.js';

interface ImportDicomOpts {
  series: string[];
  sr?: string[];
  manifest?: string;
  roi?: string[];
  out: string;
}

/** `recist3d import-dicom`: DICOM CT series + RECIST SR (or RTSTRUCT, or a manifest) -> NIfTI + manifest. */
export function registerImportDicom(program: Command): void {
  program
    .command('import-dicom')
    .description(
      'convert DICOM CT series (+ TID 1500 RECIST SRs, RTSTRUCTs or a manifest) to NIfTI and a lesion manifest',
    )
    .requiredOption(
      '--series <dir...>',
      'folders holding the CT series (searched recursively; one folder may hold several series)',
    )
    .option('--sr <file...>', 'DICOM SR files (TID 1500) with Long Axis / Short Axis measurements')
    .option('--manifest <csv>', 'a manifest whose image column names a series folder or a SeriesInstanceUID')
    .option(
      '--roi <name...>',
      'RTSTRUCT ROI names to import as lesions (default: every ROI of a series without other lesions)',
    )
    .requiredOption(
      '--out <dir>',
      'output folder: images/*.nii.gz (+ .dicom.json sidecars), masks/, manifest.csv',
    )
    .addHelpText(
      'after',
      '\nSR and RTSTRUCT files found among the series files are used too. A file or series that cannot be read\n' +
        'is listed (and written to import-failures.csv) naming the file; the other series still import.\n' +
        'See docs/dicom.md.\n',
    )
    .action(async (opts: ImportDicomOpts) => {
      const t0 = Date.now();
      const progress = lazyProgress('import-dicom');
      const res = await importDicom({
        series: opts.series.map((s) => resolve(s)),
        sr: opts.sr ?? [],
        manifest: opts.manifest ? resolve(opts.manifest) : '',
        roi: opts.roi ?? [],
        outDir: resolve(opts.out),
        onProgress: progress.onProgress,
      });
      progress.stop();
      for (const f of res.failures.slice(0, 30))
        process.stderr.write(`not imported: ${f.code} ${f.message}\n`);
      if (res.failures.length > 30)
        process.stderr.write(`... ${res.failures.length - 30} more; see ${res.failuresPath}\n`);
      for (const s of res.series)
        process.stdout.write(
          `series ${s.name}: ${s.slices} slices, ${s.lesions} lesion(s) -> ${s.imagePath}\n`,
        );
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `imported ${res.series.length} series and ${res.records.length} lesion(s), ${res.failures.length} problem(s), in ${secs} s\n` +
          (res.manifestPath
            ? `manifest: ${res.manifestPath}\n`
            : 'no RECIST found (give --sr, --manifest or an RTSTRUCT): no manifest written\n'),
      );
      if (res.series.length === 0) process.exitCode = 1;
    });
}
