import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { parseCategory } from '../../io/manifest.js';
import { masksToManifest } from '../../io/manifest-from-masks.js';
import { lazyProgress } from '../progress.js';
import { prepareOutFile } from '../../util/out-dir.js';

interface FromMasksOpts {
  images: string;
  masks: string;
  out: string;
  noise: string;
  seed: string;
  category: string;
  patientRegex: string;
}

/** `recist3d recist-from-masks`: measure RECIST on ground-truth masks as a reader would -> lesion manifest. */
export function registerRecistFromMasks(program: Command): void {
  program
    .command('recist-from-masks')
    .description(
      'measure RECIST on 3D masks as a reader would (largest axial slice) and write a lesion manifest',
    )
    .requiredOption('--images <dir>', 'folder of NIfTI images')
    .requiredOption('--masks <dir>', 'folder of NIfTI masks, same file names as the images')
    .requiredOption('--out <csv>', 'manifest CSV to write')
    .option('--noise <fraction>', 'relative RECIST length noise, 0..0.5 (reader variability)', '0')
    .option('--seed <s>', 'seed of the noise', '0')
    .option('--category <name>', 'lesion category for every row (name or DeepLesion code)', 'unknown')
    .option('--patient-regex <re>', 'regex on the file stem whose first group is the patient id', '^[^_]+')
    .action(async (opts: FromMasksOpts) => {
      const noise = Number(opts.noise);
      if (!(Number.isFinite(noise) && noise >= 0 && noise <= 0.5))
        throw new Recist3dError(
          'E_USAGE',
          `Expected a number in [0, 0.5] for --noise but received "${opts.noise}"`,
        );
      const category = parseCategory(opts.category);
      if (!category) throw new Recist3dError('E_USAGE', `Unknown --category "${opts.category}"`);
      try {
        new RegExp(opts.patientRegex);
      } catch (e) {
        throw new Recist3dError(
          'E_USAGE',
          `--patient-regex is not a valid regular expression: ${(e as Error).message}`,
          {
            field: '--patient-regex',
          },
        );
      }
      const out = await prepareOutFile(opts.out);
      const t0 = Date.now();
      const progress = lazyProgress('recist-from-masks');
      const res = await masksToManifest({
        imagesDir: resolve(opts.images),
        masksDir: resolve(opts.masks),
        out,
        noise,
        seed: opts.seed,
        category,
        patientRegex: opts.patientRegex,
        onProgress: progress.onProgress,
      });
      progress.stop();
      for (const f of res.failures) process.stderr.write(`skipped ${f.lesionId}: ${f.code} ${f.message}\n`);
      for (const u of res.unpaired) process.stderr.write(`unpaired: ${u}\n`);
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      process.stdout.write(
        `measured ${res.records.length} lesion(s), ${res.failures.length} failed, ${res.unpaired.length} unpaired, ` +
          `in ${secs} s\nmanifest: ${out}\n`,
      );
      if (res.records.length === 0) process.exitCode = 1;
    });
}
