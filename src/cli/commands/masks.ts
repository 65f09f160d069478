import { resolve } from 'node:path';
import type { Command } from 'commander';
import { Recist3dError } from '../../errors.js';
import { loadManifest } from '../../io/manifest.js';
import { MASK_METHODS, isMaskMethod } from '../../pseudo/methods.js';
import { writeCohortMasks } from '../../pseudo/write-masks.js';
import type { SrModels } from '../../sr/apply.js';
import { loadSrModels } from '../../sr/model-files.js';
import { createProgress } from '../progress.js';
import { claimOutDir } from '../../util/out-dir.js';
import { removeMasks, staleMasks, staleMasksNote } from '../../util/stale-masks.js';

interface MasksOpts {
  manifest: string;
  out: string;
  method: string;
  size: string;
  iterations: string;
  trimap: string;
  fg: string;
  pfg: string;
  pbg: string;
  bg: string;
  batch: string;
  pad: string;
  limit?: string;
  force?: boolean;
  sr?: string;
}

/** --method grabcut-r-sr: GrabCut-R on the stacked GAN's enhanced image (needs --sr). */
const SR_METHOD = 'grabcut-r-sr';

/** Parses a number option or throws E_USAGE naming the option. */
function num(v: string, name: string, min: number, max = Infinity): number {
  const x = Number(v);
  if (!(Number.isFinite(x) && x >= min && x <= max)) {
    throw new Recist3dError(
      'E_USAGE',
      `Expected a number in [${min}, ${max}] for --${name} but received "${v}"`,
    );
  }
  return x;
}

/** `recist3d masks`: 2D training masks on the RECIST slice for every lesion of a manifest (paper 3.1). */
export function registerMasks(program: Command): void {
  program
    .command('masks')
    .description('make 2D training masks on the RECIST slice of every lesion (paper section 3.1, Table 1)')
    .requiredOption('--manifest <csv>', 'lesion manifest (docs/manifest.md)')
    .requiredOption('--out <dir>', 'output folder: <lesion_id>.nii.gz per lesion and masks.csv')
    .option('--method <m>', `one of ${[...MASK_METHODS, SR_METHOD].join(', ')}`, 'grabcut-r')
    .option(
      '--sr <dir>',
      `with --method ${SR_METHOD}: the stacked GAN folder written by \`recist3d sr train\``,
    )
    .option('--size <px>', 'ROI working size in pixels', '128')
    .option('--iterations <n>', 'GrabCut iterations', '5')
    .option(
      '--trimap <kind>',
      "GrabCut-R trimap: 'ranked' (by distance to the axes) or 'paper' (section 3.1)",
      'ranked',
    )
    .option('--fg <share>', 'GrabCut-R: FG share of the ROI', '0.1')
    .option('--pfg <share>', "GrabCut-R 'ranked': PFG share of the ROI", '0.2')
    .option('--pbg <share>', "GrabCut-R 'ranked': PBG share of the ROI", '0.2')
    .option('--bg <share>', "GrabCut-R 'paper': BG share of the ROI", '0.5')
    .option(
      '--pad <mode>',
      "ROI beyond the image: 'constant' (-1024 HU) or 'reflect' (mirror; for crops)",
      'constant',
    )
    .option('--batch <n>', 'ROIs per native GrabCut call', '32')
    .option('--limit <n>', 'only the first n lesions')
    .option('--force', 'remove mask files in --out that this run did not write (left by an earlier run)')
    .action(async (opts: MasksOpts) => {
      const withSr = opts.method === SR_METHOD;
      const method = withSr ? 'grabcut-r' : opts.method;
      if (!isMaskMethod(method)) {
        throw new Recist3dError(
          'E_USAGE',
          `Unknown --method "${opts.method}"; expected one of ${[...MASK_METHODS, SR_METHOD].join(', ')}`,
        );
      }
      if (withSr !== (opts.sr !== undefined)) {
        throw new Recist3dError(
          'E_USAGE',
          withSr
            ? `--method ${SR_METHOD} needs --sr DIR (a model folder of \`recist3d sr train\`)`
            : `--sr is used only by --method ${SR_METHOD}`,
        );
      }
      if (opts.trimap !== 'ranked' && opts.trimap !== 'paper') {
        throw new Recist3dError('E_USAGE', `Unknown --trimap "${opts.trimap}"; expected ranked or paper`);
      }
      if (opts.pad !== 'constant' && opts.pad !== 'reflect') {
        throw new Recist3dError('E_USAGE', `Unknown --pad "${opts.pad}"; expected constant or reflect`);
      }
      const options = {
        method,
        iterations: num(opts.iterations, 'iterations', 1, 100),
        roi: { sizePx: num(opts.size, 'size', 16, 1024), padMode: opts.pad },
        trimap: {
          kind: opts.trimap,
          fgFraction: num(opts.fg, 'fg', 0, 1),
          pfgFraction: num(opts.pfg, 'pfg', 0, 1),
          pbgFraction: num(opts.pbg, 'pbg', 0, 1),
          bgFraction: num(opts.bg, 'bg', 0, 1),
        },
        batchSize: num(opts.batch, 'batch', 1, 4096),
      } as const;
      await using outDir = await claimOutDir(opts.out, { command: 'masks' });
      const sr: (SrModels & { dispose(): void }) | undefined = opts.sr
        ? disposable(await loadSrModels(resolve(opts.sr)))
        : undefined;
      try {
        // missing image files become per-lesion errors instead of stopping the cohort
        let records = await loadManifest(resolve(opts.manifest), { checkFiles: false });
        if (opts.limit !== undefined) records = records.slice(0, num(opts.limit, 'limit', 1));
        const out = outDir.path;
        const progress = createProgress(`masks ${opts.method}`, records.length);
        const s = await writeCohortMasks(records, out, { ...options, sr }, (row) =>
          progress.increment(1, row.status === 'ok' ? row.lesionId : `${row.lesionId} FAILED`),
        );
        progress.stop();
        for (const r of s.rows.filter((x) => x.status === 'error')) {
          process.stderr.write(`recist3d: lesion ${r.lesionId} skipped: ${r.errorCode} ${r.message}\n`);
        }
        const rate = s.seconds > 0 ? (s.ok / s.seconds).toFixed(1) : 'n/a';
        process.stdout.write(
          `${s.ok} masks written to ${out} (${s.failed} failed, ${s.fallback} used the fallback) ` +
            `in ${s.seconds.toFixed(1)} s, ${rate} lesions/s; per-lesion stats in ${resolve(out, 'masks.csv')}\n`,
        );
        const stale = await staleMasks(
          out,
          s.rows.filter((r) => r.status === 'ok').map((r) => r.file),
        );
        if (opts.force) {
          await removeMasks(out, stale);
          if (stale.length)
            process.stdout.write(`removed ${stale.length} mask file(s) left by an earlier run\n`);
        } else process.stderr.write(staleMasksNote(out, stale, '--force removes them'));
        if (s.ok === 0 && records.length > 0) process.exitCode = 1;
      } finally {
        sr?.dispose();
      }
    });
}

function disposable(m: SrModels): SrModels & { dispose(): void } {
  return {
    ...m,
    dispose: () => {
      m.g1.dispose();
      m.g2.dispose();
    },
  };
}
