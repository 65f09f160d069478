import { readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { readNifti, writeNifti } from '../../io/nifti.js';
import { superResolveVolume } from '../../sr/apply.js';
import { loadSrModels } from '../../sr/model-files.js';
import { WALLPAPER_DIR, loadCtSlices, loadPhotos } from '../../sr/sources.js';
import { SR_PRESETS, trainStackedGan, type SrPreset } from '../../sr/train.js';
import { claimOutDir } from '../../util/out-dir.js';
import { choiceOption, numberOption, splitList } from '../options.js';
import { createProgress, type Progress } from '../progress.js';

/** The CT windows the fine-tuning slices are made with: soft tissue (DeepLesion's) and lung. */
export const SR_CT_WINDOWS: ReadonlyArray<readonly [number, number]> = [
  [-160, 240],
  [-1350, 150],
];

interface SrTrainOpts {
  out: string;
  preset: string;
  data?: string;
  ctSlices: string;
  photos: string;
  g1Steps?: string;
  g2Steps?: string;
  seed: string;
}

interface SrApplyOpts {
  model: string;
  image: string;
  out: string;
  window: string;
  zoom: string;
}

const CT_FILE = /\.(nii|nii\.gz|png)$/;

/** CT files (.nii, .nii.gz, DeepLesion .png) named directly or found in the named folders (recursively). */
async function ctFiles(list: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of list.map((x) => resolve(x))) {
    const s = await stat(p).catch(() => undefined);
    if (!s)
      throw new Recist3dError('E_FILE_NOT_FOUND', `--data names a path that does not exist`, { file: p });
    if (s.isDirectory()) {
      const names = (await readdir(p, { recursive: true })).filter((n) => CT_FILE.test(n)).sort();
      if (names.length === 0)
        throw new Recist3dError('E_SR_DATA', `--data folder holds no .nii, .nii.gz or .png files`, {
          file: p,
        });
      out.push(...names.map((n) => join(p, n)));
    } else if (CT_FILE.test(p)) out.push(p);
    else
      throw new Recist3dError('E_SR_DATA', `--data files must be .nii, .nii.gz or DeepLesion 16-bit .png`, {
        file: p,
      });
  }
  return out;
}

function windowOption(v: string): [number, number] {
  const parts = splitList(v).map(Number);
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1]))
    throw new Recist3dError('E_USAGE', `Expected --window LO,HI in HU with LO < HI but received "${v}"`);
  return [parts[0], parts[1]];
}

/** `recist3d sr train|apply`: the stacked GAN super-resolution (paper section 3.4, docs/sr.md). */
export function registerSr(program: Command): void {
  const sr = program
    .command('sr')
    .description('stacked GAN super-resolution: G1 denoises, G2 enhances (paper 3.4, docs/sr.md)');
  sr.command('train')
    .description(
      'train G1 (denoiser) then G2 (enhancer) on natural photographs, fine-tuned on CT slices; resumes when rerun',
    )
    .requiredOption('--out <dir>', 'model folder: g1.pt + g1.json, g2.pt + g2.json')
    .option('--preset <name>', `network sizes and schedule: ${Object.keys(SR_PRESETS).join(' or ')}`, 'small')
    .option(
      '--data <paths>',
      'CT for the fine-tuning: NIfTI volumes (.nii, .nii.gz) or DeepLesion 16-bit PNG slices, files or folders (searched recursively), comma-separated',
    )
    .option('--ct-slices <n>', 'axial slices taken per CT volume', '8')
    .option('--photos <dir>', 'where plasma-workspace-wallpapers is installed', WALLPAPER_DIR)
    .option('--g1-steps <n>', 'override the preset: G1 training steps')
    .option('--g2-steps <n>', 'override the preset: G2 training steps')
    .option('--seed <n>', 'seed of the weights and of every batch', '0')
    .action(async (opts: SrTrainOpts) => {
      const preset = choiceOption(opts.preset, 'preset', Object.keys(SR_PRESETS) as SrPreset[]);
      const slices = numberOption(opts.ctSlices, 'ct-slices', 1, 10_000, true);
      const seed = numberOption(opts.seed, 'seed', 0, 2 ** 31, true);
      const stages = {
        g1: opts.g1Steps ? { steps: numberOption(opts.g1Steps, 'g1-steps', 1, 1e7, true) } : {},
        g2: opts.g2Steps ? { steps: numberOption(opts.g2Steps, 'g2-steps', 1, 1e7, true) } : {},
      };
      const ctPaths = opts.data ? await ctFiles(splitList(opts.data)) : [];
      await using outDir = await claimOutDir(opts.out, { command: 'sr train' });
      const photos = await loadPhotos(resolve(opts.photos));
      const ct = [];
      for (const w of SR_CT_WINDOWS)
        ct.push(...(await loadCtSlices(ctPaths, { slicesPerVolume: slices, windowHu: w, minSide: 32 })));
      process.stderr.write(
        `recist3d: ${photos.length} photographs, ${ct.length} windowed CT slices from ${ctPaths.length} files\n`,
      );
      let bar: Progress | undefined;
      let barStage = '';
      try {
        const results = await trainStackedGan(
          outDir.path,
          { photos, ct, ctWindowsHu: SR_CT_WINDOWS },
          {
            preset,
            seed,
            stages,
            onStep: (stage, done, total, l) => {
              if (stage !== barStage) {
                bar?.stop();
                bar = createProgress(`sr ${stage === 'g1' ? 'G1 denoise' : 'G2 enhance'}`, total);
                barStage = stage;
              }
              bar?.update(done, `G ${l.generator.toFixed(4)} D ${l.discriminator.toFixed(3)}`);
            },
          },
        );
        bar?.stop();
        for (const r of results)
          process.stdout.write(
            `${r.stage}: ${r.status === 'done' ? 'already trained' : r.status} (${r.stepsDone} steps, ${r.seconds.toFixed(0)} s` +
              (r.firstLoss !== undefined
                ? `, generator loss ${r.firstLoss.toFixed(4)} -> ${r.lastLoss?.toFixed(4)}`
                : '') +
              `)\n`,
          );
        process.stdout.write(
          `Models: ${join(outDir.path, 'g1.pt')}, ${join(outDir.path, 'g2.pt')} (+ .json sidecars)\n`,
        );
      } finally {
        bar?.stop();
      }
    });
  sr.command('apply')
    .description('write the denoised (G1) and enhanced (G2) versions of a CT volume')
    .requiredOption('--model <dir>', 'folder written by `recist3d sr train`')
    .requiredOption('--image <nifti>', 'CT volume (.nii or .nii.gz, HU)')
    .requiredOption('--out <dir>', 'output folder: denoised.nii.gz, enhanced.nii.gz')
    .option(
      '--window <lo,hi>',
      'HU window the networks see (values outside it are clipped)',
      SR_CT_WINDOWS[0].join(','),
    )
    .option('--zoom <z>', 'in-plane upsampling of the enhanced volume (G2 takes any zoom)', '1')
    .action(async (opts: SrApplyOpts) => {
      const windowHu = windowOption(opts.window);
      const zoom = numberOption(opts.zoom, 'zoom', 1, 16);
      const vol = await readNifti(resolve(opts.image));
      await using outDir = await claimOutDir(opts.out, { command: 'sr apply' });
      const models = await loadSrModels(resolve(opts.model));
      const bar = createProgress('sr apply', vol.size[2]);
      try {
        const r = await superResolveVolume(models, vol, { windowHu, zoom, onSlices: (d) => bar.update(d) });
        bar.stop();
        await writeNifti(join(outDir.path, 'denoised.nii.gz'), r.denoised);
        await writeNifti(join(outDir.path, 'enhanced.nii.gz'), r.enhanced);
        process.stdout.write(
          `Wrote ${join(outDir.path, 'denoised.nii.gz')} (${r.denoised.size.join('x')}) and enhanced.nii.gz (${r.enhanced.size.join('x')})\n`,
        );
      } finally {
        bar.stop();
        models.g1.dispose();
        models.g2.dispose();
      }
    });
}
