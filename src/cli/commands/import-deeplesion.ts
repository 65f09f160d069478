import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { importDeepLesion } from '../../io/import-deeplesion.js';
import { lazyProgress } from '../progress.js';
import { claimOutDir } from '../../util/out-dir.js';

interface ImportOpts {
  dlInfo: string;
  images: string;
  out: string;
  maxSlices: string;
}

/** `recist3d import-deeplesion`: DL_info.csv + Images_png -> NIfTI volumes + lesion manifest. */
export function registerImportDeeplesion(program: Command): void {
  program
    .command('import-deeplesion')
    .description(
      'convert DeepLesion (DL_info.csv + Images_png 16-bit PNGs) to NIfTI volumes and a lesion manifest',
    )
    .requiredOption('--dl-info <csv>', 'DL_info.csv (extra columns are ignored)')
    .requiredOption('--images <dir>', 'Images_png folder (PPPPPP_SS_RR/KKK.png)')
    .requiredOption('--out <dir>', 'output folder: images/*.nii.gz and manifest.csv')
    .option('--max-slices <n>', 'at most this many slices on each side of the key slice', '1000')
    .addHelpText(
      'after',
      '\nLesions whose slices are missing or unreadable, or whose RECIST is invalid, are listed and skipped;\n' +
        'the command fails only when no lesion could be imported.\n',
    )
    .action(async (opts: ImportOpts) => {
      const maxSlicesEachSide = Number(opts.maxSlices);
      if (!(Number.isInteger(maxSlicesEachSide) && maxSlicesEachSide >= 0))
        throw new Recist3dError(
          'E_USAGE',
          `Expected a non-negative integer for --max-slices but received "${opts.maxSlices}"`,
        );
      await using outDir = await claimOutDir(opts.out, { command: 'import-deeplesion' });
      const t0 = Date.now();
      const progress = lazyProgress('import-deeplesion');
      const res = await importDeepLesion({
        dlInfo: resolve(opts.dlInfo),
        imagesDir: resolve(opts.images),
        outDir: outDir.path,
        maxSlicesEachSide,
        onProgress: progress.onProgress,
      });
      progress.stop();
      for (const f of res.failures.slice(0, 20))
        process.stderr.write(`skipped ${f.lesionId} (row ${f.row}): ${f.code} ${f.message}\n`);
      if (res.failures.length > 20) {
        const byCode = new Map<string, number>();
        for (const f of res.failures) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1);
        const codes = [...byCode].map(([c, n]) => `${c} ${n}`).join(', ');
        process.stderr.write(
          `... ${res.failures.length - 20} more skipped (all: ${codes}); see ${res.failuresPath}\n`,
        );
      }
      for (const w of res.warnings.slice(0, 20))
        process.stderr.write(`warning: row ${w.row}, field ${w.field}: ${w.message}\n`);
      if (res.warnings.length > 20)
        process.stderr.write(`... and ${res.warnings.length - 20} more warnings\n`);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `imported ${res.records.length} lesion(s) into ${res.volumesWritten} volume(s), ` +
          `${res.failures.length} skipped, in ${secs} s\nmanifest: ${res.manifestPath}\n`,
      );
      if (res.records.length === 0) process.exitCode = 1;
    });
}
